"""Run inside `unshare -n` by test_offline.py: a broker, the service on spoken commands, under strace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.broker import Collector, Mosquitto

tmp, exe, home, pcm = (Path(a) for a in sys.argv[1:5])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
with Mosquitto() as broker:
    collector = Collector(broker.port, "hermes/intent/#")
    config = tmp / "config.toml"
    config.write_text(
        f'[stt]\nengine = "pocketsphinx"\n[handlers.mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n'
        f'[daemon]\nstatus_socket = "{tmp}/status.sock"\n',
        encoding="utf-8",
    )
    trace = tmp / "trace.txt"
    with pcm.open("rb") as stdin:
        run = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace),
             str(exe), "run", "--stdin", "--config", str(config), "--home", str(home)],
            stdin=stdin, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    messages = collector.wait_for(3, timeout=20)
    collector.close()
print(json.dumps({"rc": run.returncode, "stderr": run.stderr, "topics": [t for t, _ in messages]}))
