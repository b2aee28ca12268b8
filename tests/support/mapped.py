"""This process's resident memory, and what of a file it maps (Linux's /proc/self)."""

from __future__ import annotations

import os
from pathlib import Path


def mappings_of(path: Path) -> list[tuple[int, int]]:
    """(size, resident) in bytes of each mapping of ``path`` in this process, largest first."""
    target = os.path.realpath(path)
    found: list[tuple[int, int]] = []
    current: list[int] | None = None
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            fields = line.split()
            if fields and "-" in fields[0] and not fields[0].endswith(":"):
                low, high = (int(x, 16) for x in fields[0].split("-"))
                current = [high - low, 0] if len(fields) >= 6 and fields[5] == target else None
                if current is not None:
                    found.append((0, 0))
            elif current is not None and fields[0] == "Rss:":
                found[-1] = (current[0], int(fields[1]) * 1024)
    return sorted(found, reverse=True)


def resident_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status", encoding="utf-8") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
