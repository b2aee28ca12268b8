"""Run inside `unshare -n` by test_wyoming_offline.py: a hub (zeroconf on) and a satellite, under strace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

tmp, exe, home, pcm = (Path(a) for a in sys.argv[1:5])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
config = tmp / "config.toml"
config.write_text(f'[handlers.log]\npath = "{tmp}/actions.jsonl"\n[wyoming]\nasr_sessions = 1\n', encoding="utf-8")
trace = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg"]
hub_err = (tmp / "hub.stderr").open("wb")
hub = subprocess.Popen(
    [*trace, "-o", str(tmp / "hub.trace"), str(exe), "wyoming", "--uri", "tcp://127.0.0.1:10800",
     "--config", str(config), "--home", str(home), "--templates-only"],
    stdout=subprocess.DEVNULL, stderr=hub_err, start_new_session=True,
)  # fmt: skip
deadline = time.monotonic() + 300
while b"ready: Wyoming hub" not in (tmp / "hub.stderr").read_bytes() and time.monotonic() < deadline:
    time.sleep(0.2)
time.sleep(3)  # zeroconf probes and announces (or fails to) in these seconds
with pcm.open("rb") as stdin:
    satellite = subprocess.run(
        [*trace, "-o", str(tmp / "satellite.trace"), str(exe), "satellite", "--hub", "tcp://127.0.0.1:10800",
         "--stdin"],
        stdin=stdin, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
os.killpg(hub.pid, signal.SIGTERM)  # strace and the hub: the hub stops as under systemd
hub.wait(timeout=30)
print(json.dumps({"satellite_rc": satellite.returncode, "satellite_out": satellite.stdout,
                  "satellite_err": satellite.stderr[-3000:], "hub_rc": hub.returncode}))  # fmt: skip
