"""Check edge-assistant's Wyoming hub against a real Home Assistant (re-runnable).

What it does (each step is skipped when already done, so it can run again on a live setup):
  1. starts the hub (``--templates-only --no-zeroconf``, so no language model) on --hub-port unless
     something listens there;
  2. starts Home Assistant (``hass -c WORKDIR/config --skip-pip``) on 8123 unless it listens already,
     writing a minimal configuration.yaml if there is none;
  3. onboards (POST /api/onboarding/users -> auth_code -> /auth/token) or refreshes the stored token;
  4. adds the Wyoming integration with the REST config flow (host 127.0.0.1, --hub-port);
  5. lists what HA made of the hub's ``info`` (entity registry, states, conversation agents);
  6. creates two Assist pipelines (hub STT + hub agent; hub STT + HA's own agent) and runs:
     audio runs (espeak-ng speech, streamed over the websocket) and text runs, recording every event;
  7. unless --no-tts, starts a second hub with ``[tts] engine = "espeak-ng"`` on --tts-port and runs
     voice to voice through it;
  8. writes everything to WORKDIR/results.json and, with --stop, stops the processes this run started.

WORKDIR (--workdir) also holds the logs (hub.log, hub-tts.log, hass.log), the pid files, the audio,
info.json (the hub's ``info`` as sent) and tts_reply.mp3.

Setup (a separate venv: Home Assistant needs Python 3.13; this file is never imported by the test
suite and is not run in CI):

    apt-get install ffmpeg espeak-ng sox
    python3.13 -m venv /path/to/havenv
    /path/to/havenv/bin/pip install homeassistant==2025.4.4 home-assistant-frontend==20250411.0 \\
        wyoming==1.5.4 aiohttp

2025.4.4 is the newest release that runs on Python 3.13.0: HA 2025.5+ needs Python >= 3.13.2 and
2026.11 needs >= 3.14.2. Its frontend component pins home-assistant-frontend 20250411.0 (bootstrap
always loads the frontend and enters recovery mode without it) and its wyoming integration pins
wyoming 1.5.4; ``--skip-pip`` keeps HA from installing anything itself.

Run, from the repository root (about a minute; starts and stops its own processes):

    /path/to/havenv/bin/python benchmarks/homeassistant_check.py --fresh --stop

  --fresh  wipe WORKDIR/config/.storage first (new onboarding, new config entries)
  --stop   stop the hubs and hass this run started
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
# run as a script, this folder comes first on sys.path, and its wyoming.py would shadow the wyoming library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
HA = "http://127.0.0.1:8123"
CLIENT_ID = "http://127.0.0.1:8123/"
CONFIGURATION_YAML = """\
homeassistant:
  name: edge-assistant HA check
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: US
  language: en
http:
  server_host: 127.0.0.1
  server_port: 8123
api:
config:
onboarding:
websocket_api:
person:
conversation:
assist_pipeline:
logger:
  default: info
  logs:
    homeassistant.components.wyoming: debug
    homeassistant.components.assist_pipeline: debug
    homeassistant.components.conversation: debug
    homeassistant.components.stt: debug
"""
SENTENCES = {
    "kitchen_on": "turn on the kitchen light",
    "unlock": "unlock the front door",
    "heater": "turn on the garage heater",  # a device the hub's home file does not name
    "time": "what time is it",  # a sentence HA's own agent answers, outside the hub's command grammar
    "long": "turn on the kitchen light. turn off the kitchen light. turn on the kitchen counter light. "
    "turn off the kitchen counter light. turn on the kitchen light.",
}
TOOLS = ("ffmpeg", "ffprobe", "espeak-ng", "sox")  # ffmpeg for HA's TTS (mp3), the rest for this script
results: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "steps": {}}
started: list[tuple[str, subprocess.Popen[bytes]]] = []


@dataclass(frozen=True)
class Setup:
    workdir: Path
    hass: Path
    edge_assistant: Path
    home: Path
    hub_port: int
    tts_port: int

    @property
    def config(self) -> Path:
        return self.workdir / "config"

    @property
    def audio(self) -> Path:
        return self.workdir / "audio"

    @property
    def tts_toml(self) -> Path:
        return self.workdir / "hub-tts.toml"

    def hub_cmd(self, port: int, *extra: str) -> list[str]:
        return [
            str(self.edge_assistant),
            "wyoming",
            "--uri",
            f"tcp://127.0.0.1:{port}",
            *extra,
            "--home",
            str(self.home),
            "--templates-only",
            "--no-zeroconf",
        ]


def log(*a: object) -> None:
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} not found (apt-get install ffmpeg espeak-ng sox)")
    return path


def check_setup(s: Setup) -> None:
    for path in (s.hass, s.edge_assistant, s.home):
        if not path.exists():
            sys.exit(f"{path} does not exist (see --hass, --edge-assistant, --home)")
    for name in TOOLS:
        tool(name)
    s.workdir.mkdir(parents=True, exist_ok=True)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(s: Setup, name: str, cmd: list[str], logfile: Path) -> None:
    with open(logfile, "a") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    (s.workdir / f"{name}.pid").write_text(str(p.pid))
    started.append((name, p))
    log(f"started {name} pid {p.pid}: {' '.join(cmd)}")


def ensure_hub(s: Setup, name: str, port: int, cmd: list[str]) -> None:
    if listening(port):
        log(f"{name} already listening on {port}")
        return
    logfile = s.workdir / f"{name}.log"
    mark = logfile.stat().st_size if logfile.exists() else 0
    start(s, name, cmd, logfile)
    for _ in range(240):
        time.sleep(0.5)
        if "ready" in logfile.read_text()[mark:]:
            log(f"{name} ready")
            return
    sys.exit(f"{name} did not log 'ready' in 120 s")


def ensure_hass(s: Setup, fresh: bool) -> None:
    if listening(8123):
        log("hass already listening on 8123")
        return
    s.config.mkdir(parents=True, exist_ok=True)
    if fresh and (s.config / ".storage").exists():
        shutil.rmtree(s.config / ".storage")
    if not (s.config / "configuration.yaml").exists():
        (s.config / "configuration.yaml").write_text(CONFIGURATION_YAML)
    start(s, "hass", [str(s.hass), "-c", str(s.config), "--skip-pip"], s.workdir / "hass.log")
    for _ in range(300):
        time.sleep(1)
        if listening(8123):
            time.sleep(3)
            log("hass listening")
            return
    sys.exit("hass did not listen on 8123 in 300 s")


def make_audio(s: Setup) -> dict[str, Path]:
    s.audio.mkdir(exist_ok=True)
    files = {}
    for key, text in SENTENCES.items():
        wav, raw = s.audio / f"{key}.wav", s.audio / f"{key}.raw"
        if not raw.exists():
            subprocess.run([tool("espeak-ng"), "-v", "en-us", "-w", str(wav), text], check=True)
            # 0.3 s of silence before, 1.5 s after (HA's VAD needs silence to end the speech)
            subprocess.run(
                [
                    tool("sox"),
                    str(wav),
                    "-r",
                    "16000",
                    "-c",
                    "1",
                    "-b",
                    "16",
                    "-e",
                    "signed-integer",
                    "-t",
                    "raw",
                    str(raw),
                    "pad",
                    "0.3",
                    "1.5",
                ],
                check=True,
            )
        files[key] = raw
    return files


async def get_token(s: Setup, http: aiohttp.ClientSession) -> str:
    authfile = s.workdir / "auth.json"
    async with http.get(f"{HA}/api/onboarding") as r:
        steps = await r.json() if r.status == 200 else []
    user_done = bool(steps) and next(s["done"] for s in steps if s["step"] == "user")
    if not steps or user_done:  # onboarding finished or user exists: refresh the stored token
        auth = json.loads(authfile.read_text())
        async with http.post(
            f"{HA}/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": auth["refresh_token"], "client_id": CLIENT_ID},
        ) as r:
            tok = await r.json()
        results["steps"]["auth"] = "refreshed stored token"
        return str(tok["access_token"])
    async with http.post(
        f"{HA}/api/onboarding/users",
        json={
            "client_id": CLIENT_ID,
            "name": "Tester",
            "username": "tester",
            "password": "tester-pass-123",
            "language": "en",
        },
    ) as r:
        body = await r.json()
        log("onboarding/users", r.status, body)
    async with http.post(
        f"{HA}/auth/token", data={"grant_type": "authorization_code", "code": body["auth_code"], "client_id": CLIENT_ID}
    ) as r:
        tok = await r.json()
    authfile.write_text(json.dumps(tok))
    headers = {"Authorization": f"Bearer {tok['access_token']}"}
    # finish the remaining onboarding steps so HA behaves like a set-up instance
    for step, payload in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
    ):
        async with http.post(f"{HA}/api/onboarding/{step}", json=payload, headers=headers) as r:
            log(f"onboarding/{step}", r.status)
    results["steps"]["auth"] = "onboarded user 'tester'"
    return str(tok["access_token"])


async def add_wyoming(s: Setup, http: aiohttp.ClientSession, headers: dict[str, str], port: int) -> dict[str, Any]:
    async with http.get(f"{HA}/api/config/config_entries/entry", headers=headers) as r:
        entries = [e for e in await r.json() if e["domain"] == "wyoming"]
    # the entries do not show their port: the first is the hub's, the second the [tts] hub's
    entries = entries[:1] if port == s.hub_port else entries[1:]
    if entries:
        log("wyoming entry exists:", entries[0]["title"], entries[0]["state"])
        return {"existing": entries}
    t0 = time.perf_counter()
    async with http.post(f"{HA}/api/config/config_entries/flow", json={"handler": "wyoming"}, headers=headers) as r:
        flow = await r.json()
        log("flow start", r.status, flow)
    async with http.post(
        f"{HA}/api/config/config_entries/flow/{flow['flow_id']}",
        json={"host": "127.0.0.1", "port": port},
        headers=headers,
    ) as r:
        done = await r.json()
        log("flow submit", r.status, json.dumps(done)[:600])
    out: dict[str, Any] = {"flow_start": flow, "flow_result": done, "flow_ms": round((time.perf_counter() - t0) * 1000)}
    await asyncio.sleep(3)
    created = (done.get("result") or {}).get("entry_id")
    async with http.get(f"{HA}/api/config/config_entries/entry", headers=headers) as r:
        out["entries"] = [e for e in await r.json() if e["domain"] == "wyoming" and e["entry_id"] == created]
    return out


class WS:
    def __init__(self, ws: Any) -> None:
        self.ws, self.n = ws, 0

    async def call(self, type_: str, **kw: Any) -> Any:
        self.n += 1
        await self.ws.send_json({"id": self.n, "type": type_, **kw})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == self.n and msg["type"] == "result":
                if not msg["success"]:
                    raise RuntimeError(f"{type_}: {msg['error']}")
                return msg["result"]

    async def run_pipeline(
        self, label: str, audio: Path | None = None, realtime: bool = False, **kw: Any
    ) -> dict[str, Any]:
        """One assist_pipeline/run; every event recorded with its time since the run was sent."""
        self.n += 1
        rid = self.n
        t0 = time.perf_counter()
        await self.ws.send_json({"id": rid, "type": "assist_pipeline/run", **kw})
        events: list[dict[str, Any]] = []
        sent_audio, sender = False, None
        while True:
            msg = await asyncio.wait_for(self.ws.receive_json(), 60)
            if msg.get("id") != rid:
                continue
            if msg["type"] == "result":
                if not msg["success"]:
                    return {"label": label, "request": kw, "error": msg["error"]}
                continue
            ev = msg["event"]
            ev["t_ms"] = round((time.perf_counter() - t0) * 1000)
            events.append(ev)
            if ev["type"] == "run-start" and audio is not None and not sent_audio:
                sent_audio = True
                handler = ev["data"]["runner_data"]["stt_binary_handler_id"]
                sender = asyncio.create_task(self._send_audio(handler, audio, realtime, t0, events))
            if ev["type"] in ("run-end",):
                break
        if sender is not None:
            sender.cancel()  # HA may end the stage (VAD) before all the audio is sent
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        summary = summarize(events)
        log(f"[{label}]", json.dumps(summary))
        return {
            "label": label,
            "request": {k: v for k, v in kw.items()},
            "audio": str(audio) if audio else None,
            "realtime": realtime,
            "summary": summary,
            "events": events,
        }

    async def _send_audio(
        self, handler: int, audio: Path, realtime: bool, t0: float, events: list[dict[str, Any]]
    ) -> None:
        """The audio as binary messages (40 ms each), then an empty one; at speech pace with ``realtime``."""
        pcm = audio.read_bytes()
        step = 1280  # 40 ms
        ts = time.perf_counter()
        sent = 0
        try:
            for i in range(0, len(pcm), step):
                await self.ws.send_bytes(bytes([handler]) + pcm[i : i + step])
                sent += len(pcm[i : i + step])
                await asyncio.sleep(0.04 if realtime else 0)
            await self.ws.send_bytes(bytes([handler]))  # end of audio
        finally:
            events.append(
                {
                    "type": "(client) audio sent",
                    "bytes": sent,
                    "audio_ms": sent * 1000 // 32000,
                    "send_ms": round((time.perf_counter() - ts) * 1000),
                    "t_ms": round((time.perf_counter() - t0) * 1000),
                }
            )


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    for ev in events:
        d = ev.get("data") or {}
        if ev["type"] == "stt-end":
            s["stt_text"] = (d.get("stt_output") or {}).get("text")
            s["stt_end_ms"] = ev["t_ms"]
        elif ev["type"] == "stt-vad-end":
            s["vad_end_ms"] = ev["t_ms"]
        elif ev["type"] == "intent-start":
            s["intent_start_ms"] = ev["t_ms"]
        elif ev["type"] == "intent-end":
            io = d.get("intent_output") or {}
            resp = io.get("response") or {}
            s["response_type"] = resp.get("response_type")
            s["speech"] = ((resp.get("speech") or {}).get("plain") or {}).get("speech")
            s["error_code"] = (resp.get("data") or {}).get("code")
            s["conversation_id"] = io.get("conversation_id")
            s["intent_end_ms"] = ev["t_ms"]
            s["processed_locally"] = d.get("processed_locally")
        elif ev["type"] == "error":
            s.setdefault("errors", []).append(d)
    return s


async def hub_probes(s: Setup, audio: dict[str, Path]) -> dict[str, Any]:
    """Straight to the hub with the wyoming library HA has installed: describe, a confirmation over two
    connections with one conversation_id (what HA's agent does), and HA-sized audio chunks in a burst."""
    from importlib.metadata import version

    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info

    out: dict[str, Any] = {"wyoming_version_in_ha_venv": version("wyoming")}
    async with AsyncTcpClient("127.0.0.1", s.hub_port) as c:
        await c.write_event(Describe().event())
        ev = await c.read_event()
        if ev is None:
            sys.exit("the hub closed the connection instead of answering describe")
        out["info_raw"] = ev.data
        out["info_parsed"] = repr(Info.from_event(ev))
    (s.workdir / "info.json").write_text(json.dumps(ev.data, indent=1))
    turns = []
    for text in ("unlock the front door", "yes"):
        event = Transcript(text, context={"conversation_id": "01PROBE"}).event()
        async with AsyncTcpClient("127.0.0.1", s.hub_port) as c:
            await c.write_event(event)
            reply = await c.read_event()
        if reply is None:
            sys.exit(f"the hub closed the connection instead of answering {text!r}")
        turns.append({"sent": event.data, "reply_type": reply.type, "reply": reply.data})
    out["confirmation_two_connections"] = turns
    log("probe: confirmation over two connections:", [(t["sent"], t["reply"].get("text")) for t in turns])
    bursts = []
    for seconds in (3.0, 4.0, 5.0, 6.0):
        pcm = (audio["kitchen_on"].read_bytes() * 10)[: int(seconds * 32000)]
        try:
            async with AsyncTcpClient("127.0.0.1", s.hub_port) as c:
                await c.write_event(Transcribe(language="en").event())
                await c.write_event(AudioStart(rate=16000, width=2, channels=1).event())
                for i in range(0, len(pcm), 320):  # HA's wyoming stt: one audio-chunk per 10 ms
                    await c.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=pcm[i : i + 320]).event())
                await c.write_event(AudioStop().event())
                ev = await c.read_event()
                result = f"{ev.type}: {ev.data}" if ev else "closed"
        except ConnectionError as exc:
            result = f"connection lost while sending: {exc!r}"
        bursts.append({"audio_s": seconds, "chunks": len(pcm) // 320, "result": result})
        log(f"probe: {seconds} s of audio in 10 ms chunks, as fast as possible ->", result)
    out["bursts_10ms_chunks"] = bursts
    return out


async def main(args: argparse.Namespace) -> None:
    s = Setup(args.workdir, args.hass, args.edge_assistant, args.home, args.hub_port, args.tts_port)
    check_setup(s)
    ensure_hub(s, "hub", s.hub_port, s.hub_cmd(s.hub_port))
    ensure_hass(s, args.fresh)
    audio = make_audio(s)
    results["hub_probes"] = await hub_probes(s, audio)
    async with aiohttp.ClientSession() as http:
        token = await get_token(s, http)
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{HA}/api/config", headers=headers) as r:
            cfg = await r.json()
            results["ha_version"] = cfg["version"]
        results["python"] = sys.version
        results["steps"]["wyoming_flow"] = await add_wyoming(s, http, headers, s.hub_port)

        async with http.ws_connect(f"{HA}/api/websocket", max_msg_size=0) as raw:
            await raw.receive_json()
            await raw.send_json({"type": "auth", "access_token": token})
            log("ws auth", (await raw.receive_json())["type"])
            ws = WS(raw)
            reg = await ws.call("config/entity_registry/list")
            ours = [e for e in reg if e["platform"] == "wyoming"]
            results["steps"]["entities"] = ours
            devices = await ws.call("config/device_registry/list")
            results["steps"]["devices"] = [
                d for d in devices if any(i[0] == "wyoming" for i in d.get("identifiers", []))
            ]
            async with http.get(f"{HA}/api/states", headers=headers) as r:
                states = await r.json()
            results["steps"]["states"] = [
                s
                for s in states
                if s["entity_id"].split(".")[0] in ("stt", "conversation", "tts", "wake_word", "assist_satellite")
            ]
            agents = await ws.call("conversation/agent/list", language="en")
            results["steps"]["conversation_agents"] = agents
            log("entities:", [(e["entity_id"], e.get("original_name")) for e in ours])
            stt_id = next(e["entity_id"] for e in ours if e["entity_id"].startswith("stt."))
            conv_id = next((e["entity_id"] for e in ours if e["entity_id"].startswith("conversation.")), None)

            existing = {p["name"]: p for p in (await ws.call("assist_pipeline/pipeline/list"))["pipelines"]}
            pipes = {}
            for name, conv in (
                ("edge-assistant (hub STT + hub agent)", conv_id),
                ("hub STT + HA agent", "conversation.home_assistant"),
            ):
                if name in existing:
                    pipes[name] = existing[name]["id"]
                    continue
                p = await ws.call(
                    "assist_pipeline/pipeline/create",
                    conversation_engine=conv,
                    conversation_language="en",
                    language="en",
                    name=name,
                    stt_engine=stt_id,
                    stt_language="en",
                    tts_engine=None,
                    tts_language=None,
                    tts_voice=None,
                    wake_word_entity=None,
                    wake_word_id=None,
                )
                pipes[name] = p["id"]
            results["steps"]["pipelines"] = pipes
            ours_p, ha_p = pipes["edge-assistant (hub STT + hub agent)"], pipes["hub STT + HA agent"]
            runs = []
            voice: dict[str, Any] = {"start_stage": "stt", "end_stage": "intent", "input": {"sample_rate": 16000}}
            runs.append(
                await ws.run_pipeline("A voice, hub STT + hub agent", audio["kitchen_on"], pipeline=ours_p, **voice)
            )
            runs.append(
                await ws.run_pipeline("B voice, hub STT + HA agent", audio["kitchen_on"], pipeline=ha_p, **voice)
            )
            runs.append(
                await ws.run_pipeline(
                    "C voice at real-time pace, hub STT + hub agent",
                    audio["kitchen_on"],
                    realtime=True,
                    pipeline=ours_p,
                    **voice,
                )
            )
            runs.append(
                await ws.run_pipeline(
                    "D text, hub agent",
                    pipeline=ours_p,
                    start_stage="intent",
                    end_stage="intent",
                    input={"text": SENTENCES["kitchen_on"]},
                )
            )
            runs.append(
                await ws.run_pipeline(
                    "E text, HA agent",
                    pipeline=ha_p,
                    start_stage="intent",
                    end_stage="intent",
                    input={"text": SENTENCES["kitchen_on"]},
                )
            )
            # a confirmation across two turns: HA's conversation_id must bring "yes" to the same dialogue
            first = await ws.run_pipeline(
                "F1 text, hub agent: unlock (asks)",
                pipeline=ours_p,
                start_stage="intent",
                end_stage="intent",
                input={"text": SENTENCES["unlock"]},
            )
            runs.append(first)
            cid = first.get("summary", {}).get("conversation_id")
            runs.append(
                await ws.run_pipeline(
                    "F2 text, hub agent: yes (same conversation_id)",
                    pipeline=ours_p,
                    start_stage="intent",
                    end_stage="intent",
                    input={"text": "yes"},
                    conversation_id=cid,
                )
            )
            runs.append(
                await ws.run_pipeline(
                    "G voice, 8.9 s of audio (7.1 s of speech) sent as fast as possible",
                    audio["long"],
                    pipeline=ours_p,
                    **voice,
                )
            )
            runs.append(
                await ws.run_pipeline(
                    "H voice after G (is the hub still serving?)", audio["kitchen_on"], pipeline=ours_p, **voice
                )
            )
            # the common setup, our hub as speech to text only: sentences HA knows but the hub's grammar may not
            runs.append(
                await ws.run_pipeline(
                    "I voice, hub STT + HA agent: a device only HA would know", audio["heater"], pipeline=ha_p, **voice
                )
            )
            runs.append(
                await ws.run_pipeline(
                    "J voice, hub STT + HA agent: 'what time is it'", audio["time"], pipeline=ha_p, **voice
                )
            )
            runs.append(
                await ws.run_pipeline(
                    "K text, HA agent: 'what time is it'",
                    pipeline=ha_p,
                    start_stage="intent",
                    end_stage="intent",
                    input={"text": SENTENCES["time"]},
                )
            )
            results["runs"] = runs
            # conversation/process as the UI's text box does, against our agent
            if conv_id:
                cp = await ws.call(
                    "conversation/process", text=SENTENCES["kitchen_on"], agent_id=conv_id, language="en"
                )
                results["steps"]["conversation_process"] = cp
                log("conversation/process:", json.dumps(cp)[:400])
            if args.tts:
                results["tts"] = await tts_check(s, http, headers, ws)
    out = s.workdir / "results.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    log(f"wrote {out}")


async def tts_check(s: Setup, http: aiohttp.ClientSession, headers: dict[str, str], ws: WS) -> dict[str, Any]:
    """A second hub with [tts] espeak-ng: HA's tts entity from our info, and a full stt -> tts run."""
    if not s.tts_toml.exists():
        s.tts_toml.write_text('[tts]\nengine = "espeak-ng"\n\n[wyoming]\nasr_sessions = 1\n')
    ensure_hub(s, "hub-tts", s.tts_port, s.hub_cmd(s.tts_port, "--config", str(s.tts_toml)))
    out: dict[str, Any] = {"flow": await add_wyoming(s, http, headers, s.tts_port)}
    reg = await ws.call("config/entity_registry/list")
    entry_ids = [e["entry_id"] for e in (out["flow"].get("entries") or out["flow"].get("existing") or [])]
    ents = [e for e in reg if e["platform"] == "wyoming" and e["config_entry_id"] in entry_ids]
    out["entities"] = [(e["entity_id"], e.get("original_name")) for e in ents]
    log("tts hub entities:", out["entities"])
    get = {e["entity_id"].split(".")[0]: e["entity_id"] for e in ents}
    if "tts" not in get:
        return out
    voices = await ws.call("tts/engine/voices", engine_id=get["tts"], language="en")
    out["voices"] = voices
    existing = {p["name"]: p for p in (await ws.call("assist_pipeline/pipeline/list"))["pipelines"]}
    name = "edge-assistant with voice (hub STT + agent + TTS)"
    if name in existing:
        pid = existing[name]["id"]
    else:
        voice = (voices.get("voices") or [{}])[0].get("voice_id")
        pid = (
            await ws.call(
                "assist_pipeline/pipeline/create",
                conversation_engine=get["conversation"],
                conversation_language="en",
                language="en",
                name=name,
                stt_engine=get["stt"],
                stt_language="en",
                tts_engine=get["tts"],
                tts_language="en",
                tts_voice=voice,
                wake_word_entity=None,
                wake_word_id=None,
            )
        )["id"]
    run = await ws.run_pipeline(
        "T voice to voice, hub STT + agent + TTS",
        s.audio / "kitchen_on.raw",
        pipeline=pid,
        start_stage="stt",
        end_stage="tts",
        input={"sample_rate": 16000},
    )
    out["run"] = run
    tts_end = next((e for e in run.get("events", []) if e["type"] == "tts-end"), None)
    if tts_end:
        url = tts_end["data"]["tts_output"]["url"]
        t0 = time.perf_counter()
        async with http.get(f"{HA}{url}" if url.startswith("/") else url) as r:
            body = await r.read()
            out["fetch"] = {
                "url": url,
                "status": r.status,
                "content_type": r.headers.get("Content-Type"),
                "bytes": len(body),
                "ms": round((time.perf_counter() - t0) * 1000),
            }
            if r.status == 200:
                reply = s.workdir / ("tts_reply" + Path(url).suffix)
                reply.write_bytes(body)
                probe = subprocess.run(
                    [
                        tool("ffprobe"),
                        "-v",
                        "error",
                        "-show_entries",
                        "format=duration:stream=codec_name",
                        "-of",
                        "json",
                        str(reply),
                    ],
                    capture_output=True,
                    text=True,
                )
                out["fetch"]["ffprobe"] = json.loads(probe.stdout or "{}")
        log("tts fetch:", out["fetch"])
    return out


def stop_started() -> None:
    for name, p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
            log(f"stopped {name} (pid {p.pid}, rc {p.returncode})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ha-check",
        help="HA config, logs, audio, pid files and results.json (default: %(default)s)",
    )
    ap.add_argument(
        "--hass",
        type=Path,
        default=Path(sys.executable).parent / "hass",
        help="Home Assistant's hass (default: next to this Python, %(default)s)",
    )
    ap.add_argument(
        "--edge-assistant",
        type=Path,
        default=REPO / ".venv" / "bin" / "edge-assistant",
        help="the hub's command (default: %(default)s)",
    )
    ap.add_argument(
        "--home", type=Path, default=REPO / "deploy" / "home.example.yaml", help="home YAML (default: %(default)s)"
    )
    ap.add_argument("--hub-port", type=int, default=10700, help="the hub's port (default: %(default)s)")
    ap.add_argument("--tts-port", type=int, default=10701, help="the [tts] hub's port (default: %(default)s)")
    ap.add_argument("--stop", action="store_true", help="stop the hubs and hass this run started")
    ap.add_argument("--no-tts", dest="tts", action="store_false", help="skip the second hub with [tts]")
    ap.add_argument("--fresh", action="store_true", help="wipe the HA .storage before starting hass")
    a = ap.parse_args()
    try:
        asyncio.run(main(a))
    finally:
        if a.stop:
            stop_started()
