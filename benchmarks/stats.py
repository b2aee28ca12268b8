"""Small statistics the speech suites share."""

from __future__ import annotations

import math

__all__ = ["nearest_rank"]


def nearest_rank(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by the nearest-rank method, to 0.1; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)
