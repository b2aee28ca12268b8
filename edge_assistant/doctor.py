"""``edge-assistant doctor``: checks the machine, the config and the models, and says what to fix."""

from __future__ import annotations

import importlib.util
import os
import platform
import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from edge_assistant.config import Settings, load_settings, relative_to_config
from edge_assistant.errors import EdgeAssistantError

__all__ = ["Check", "allow_drop_in", "handler_endpoints", "run_checks", "systemd_allow"]

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def _python(_: Settings, __: str | None) -> Iterator[Check]:
    # The package itself requires 3.10, so reaching here means the version is fine; say which.
    version = ".".join(map(str, sys.version_info[:3]))
    yield Check("python", "ok", f"Python {version} ({sys.executable}) on {platform.machine()}")


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return flags


def _cpu(_: Settings, __: str | None) -> Iterator[Check]:
    flags, cores = _cpu_flags(), os.cpu_count() or 1
    machine = platform.machine()
    wanted = {"x86_64": ("avx2", "fma", "f16c"), "aarch64": ("asimd", "fphp", "asimddp")}.get(machine, ())
    missing = [f for f in wanted if f not in flags]
    detail = f"{cores} cores, {machine}" + (f", has {' '.join(f for f in wanted if f in flags)}" if wanted else "")
    if missing and flags:
        yield Check("cpu", "warn", f"{detail}; lacks {' '.join(missing)}", "the model path will be slower (Pi 4)")
    else:
        yield Check("cpu", "ok", detail)
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return
    total_mb = pages * size // 2**20
    status: Status = "ok" if total_mb >= 1500 else "warn"
    yield Check("memory", status, f"{total_mb} MB", "" if status == "ok" else "use a smaller model (smollm2-135m)")


def _audio(settings: Settings, _: str | None) -> Iterator[Check]:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        yield Check("audio", "warn", f"sounddevice unavailable ({exc})", "pip install 'edge-assistant[pocketsphinx]'")
        return
    inputs = [d["name"] for d in sounddevice.query_devices() if d.get("max_input_channels", 0) > 0]
    if inputs:
        yield Check("audio", "ok", f"{len(inputs)} input device(s): {', '.join(inputs[:4])}")
    else:
        fix = "plug in a microphone, or use `run --stdin` / `listen FILE.wav`"
        yield Check("audio", "warn", "no input device", fix)


def _models(settings: Settings, _: str | None) -> Iterator[Check]:
    from edge_assistant import modelstore

    manifest = modelstore.load_manifest()
    models_dir = Path(settings.model.dir) if settings.model.dir else modelstore.default_models_dir()
    name = settings.model.path
    if name in manifest.models or name == "default":
        row = modelstore.verify(manifest.get(name), models_dir)
        status: Status = "ok" if row["ok"] else "fail"
        yield Check("model", status, f"{row['model']}: {row['path']}", str(row.get("error", "")))
    else:
        path = Path(name)
        ok = path.is_file()
        yield Check("model", "ok" if ok else "fail", str(path), "" if ok else "fix [model] path or pull a model")
    from edge_assistant.runtime import resolve_lora_path, resolve_model_path

    try:
        lora = resolve_lora_path(settings, resolve_model_path(settings))
    except EdgeAssistantError as exc:
        yield Check("adapter", "fail", str(exc).splitlines()[0], 'fix [model] lora_path, or set it to "none"')
        return
    yield Check("adapter", "ok", str(lora) if lora else "none (the base model with the few-shot prompt)")


_ENGINE_MODULES = {"whisper": "faster_whisper", "moonshine": "onnxruntime"}


def _speech(settings: Settings, _: str | None) -> Iterator[Check]:
    engine = settings.stt.engine
    if importlib.util.find_spec(_ENGINE_MODULES.get(engine, engine)) is None:
        fix = f"pip install 'edge-assistant[{engine}]'"
        yield Check("speech", "fail", f"[stt] engine = {engine}, not installed", fix)
        return
    if engine in _ENGINE_MODULES:
        yield from _open_engine(settings)
    elif engine == "vosk":
        from edge_assistant.stt.vosk import resolve_vosk_model

        models_dir = Path(settings.model.dir) if settings.model.dir else None
        try:
            path = resolve_vosk_model(settings.stt.vosk_model, models_dir)
        except EdgeAssistantError as exc:
            yield Check("speech", "fail", str(exc).splitlines()[0], "edge-assistant models pull vosk-small-en-us")
            return
        yield Check("speech", "ok", f"vosk, model {path}, {settings.stt.mode} mode")
    else:
        yield Check("speech", "ok", f"pocketsphinx (built-in US English model), {settings.stt.mode} mode")


def _open_engine(settings: Settings) -> Iterator[Check]:
    from edge_assistant.stt.moonshine import MODEL_FILES as MOONSHINE_FILES
    from edge_assistant.stt.offline import resolve_model_dir
    from edge_assistant.stt.whisper import MODEL_FILES as WHISPER_FILES

    stt = settings.stt
    name, files = (
        (stt.whisper_model, WHISPER_FILES) if stt.engine == "whisper" else (stt.moonshine_model, MOONSHINE_FILES)
    )
    models_dir = Path(settings.model.dir) if settings.model.dir else None
    try:
        path = resolve_model_dir(name, files, models_dir)
    except EdgeAssistantError as exc:
        yield Check("speech", "fail", str(exc).splitlines()[0], f"edge-assistant models pull {name}")
        return
    # As stt.build_transcriber: a grammar pass runs beside the open engine only with [stt] hybrid on.
    hybrid = stt.mode == "grammar" and stt.hybrid != "off"
    if hybrid and importlib.util.find_spec("pocketsphinx") is None:
        fix = "pip install 'edge-assistant[pocketsphinx]', or [stt] hybrid = \"off\""
        yield Check("speech", "fail", "hybrid decoding needs pocketsphinx for its grammar pass", fix)
        return
    if hybrid:
        how = f"hybrid ({stt.hybrid}): pocketsphinx grammar pass beside it"
    elif stt.mode == "grammar":
        how = "alone, biased to the home's commands"
    else:
        how = "open mode"
    yield Check("speech", "ok", f"{stt.engine}, model {path}, {how}")


def _config(settings: Settings, config_path: str | None) -> Iterator[Check]:
    yield Check("config", "ok", config_path or "(defaults: no config file)")
    if not settings.nlu.home:
        yield Check("home", "warn", "[nlu] home is not set", "set [nlu] home, or pass --home")
        return
    from edge_assistant.home import load_home
    from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog

    home_path = relative_to_config(settings.nlu.home, config_path)
    try:
        home = load_home(home_path)
        catalog = load_catalog([BUILTIN_CATALOG_DIR, *settings.nlu.catalog])
    except EdgeAssistantError as exc:
        yield Check("home", "fail", str(exc), "fix the file named above")
        return
    yield Check("home", "ok", f"{home_path}: {len(home.entities)} entities; catalog: {len(catalog.intents)} intents")
    if settings.nlu.area and home.area(settings.nlu.area) is None:
        yield Check(
            "home", "fail", f"[nlu] area '{settings.nlu.area}' is no area of {home_path}", "name an area of the home"
        )
    from edge_assistant.policy import policy_problems

    for field, why in policy_problems(settings.policy, catalog, home):
        yield Check("policy", "fail", f"{field}: {why}: this rule would never apply", "fix the rule's name")


def handler_endpoints(settings: Settings) -> list[tuple[str, str, int]]:
    """(handler, host, port) of every network peer the configured handlers talk to."""
    found: list[tuple[str, str, int]] = []
    handlers = getattr(settings, "handlers", None)
    if handlers is None:
        return found
    data = handlers.model_dump() if hasattr(handlers, "model_dump") else dict(handlers)
    for kind, conf in data.items():
        for item in conf if isinstance(conf, list) else [conf]:
            if not isinstance(item, dict):
                continue
            if item.get("host"):
                found.append((kind, str(item["host"]), int(item.get("port") or 1883)))
            url = item.get("url") or item.get("base_url")
            if url:
                parts = urlsplit(str(url))
                if parts.hostname:
                    found.append((kind, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    return found


def _handlers(settings: Settings, _: str | None) -> Iterator[Check]:
    endpoints = handler_endpoints(settings)
    if not endpoints:
        yield Check("handlers", "ok", "no network handlers configured (log handler)")
    for kind, host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=2):
                yield Check(f"handler {kind}", "ok", f"{host}:{port} reachable")
        except OSError as exc:
            yield Check(f"handler {kind}", "fail", f"{host}:{port}: {exc}", f"start the {kind} server or fix its host")


CHECKS: dict[str, Callable[[Settings, str | None], Iterator[Check]]] = {
    "python": _python,
    "cpu": _cpu,
    "audio": _audio,
    "speech": _speech,
    "config": _config,
    "models": _models,
    "handlers": _handlers,
}


def run_checks(config_path: str | None, only: list[str] | None = None) -> list[Check]:
    """Every check (or ``only`` those named); a config that does not load is itself the finding."""
    try:
        settings = load_settings(config_path)
    except EdgeAssistantError as exc:
        return [Check("config", "fail", str(exc), "fix the line and field named above")]
    results: list[Check] = []
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        try:
            results.extend(check(settings, config_path))
        except Exception as exc:
            results.append(Check(name, "fail", f"check crashed: {exc!r}"))
    return results


def systemd_allow(config_path: str | None, extra: Iterable[str] = ()) -> str:
    """A unit drop-in allowing IP traffic to loopback and the handler hosts only (plus ``extra``
    addresses or networks: the Wyoming hub's clients and the mDNS group)."""
    settings = load_settings(config_path)
    hosts = [host for _, host, _ in handler_endpoints(settings)] + list(settings.daemon.allow_hosts)
    return allow_drop_in(hosts, extra)


def allow_drop_in(hosts: Iterable[str], extra: Iterable[str] = ()) -> str:
    """``[Service] IPAddressAllow=``: loopback, the addresses ``hosts`` resolve to now, and ``extra``."""
    addresses = {"localhost", *extra}
    for host in hosts:
        try:
            addresses.update(str(info[4][0]) for info in socket.getaddrinfo(host, None))
        except OSError:
            addresses.add(host)  # systemd rejects a name it cannot parse: the error names it
    return "[Service]\nIPAddressAllow=" + " ".join(sorted(addresses)) + "\n"
