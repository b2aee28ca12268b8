"""The benchmark suites (nlu, nlu-tuned, nlu-dev, nlu-multi, dispatch, audio, soak, wyoming) and their command line.

``edge-assistant bench SUITE`` registers them through ``register_suites``; ``python -m benchmarks
SUITE`` runs ``main``. Each suite imports its code only when it runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.paths import EXAMPLE_HOME, SHARED_DATA
from edge_assistant.cli.options import Subcommands, add_config, add_json_out, add_model
from edge_assistant.jsonl import emit as _emit

__all__ = ["main", "register_suites"]


def _write(path: str | None, report: object) -> None:
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _cmd_nlu(args: argparse.Namespace) -> int:
    from benchmarks.nlu import run_nlu_bench
    from edge_assistant.config import load_settings
    from edge_assistant.runtime import open_model, resolve_model_path

    settings = load_settings(args.config)
    path = resolve_model_path(settings, args.model)
    report = run_nlu_bench(Path(args.data), lambda: open_model(settings, path, None), path, args.anchor_every)
    report["model"] = str(path.name)
    _write(args.json, report)
    return 0


def _cmd_multi(args: argparse.Namespace) -> int:
    from benchmarks.multi import run_multi_bench
    from edge_assistant.config import load_settings
    from edge_assistant.runtime import open_model, resolve_lora_path, resolve_model_path

    settings = load_settings(args.config)
    path = resolve_model_path(settings, args.model)
    lora = resolve_lora_path(settings, path)
    model = open_model(settings, path, lora)
    report = run_multi_bench(model, tuned_prompt=lora is not None, size=args.size)
    report["model"], report["adapter"] = path.name, lora.name if lora else None
    _write(args.json, report)
    return 0


def _cmd_tuned(args: argparse.Namespace) -> int:
    from benchmarks.tuned import run_tuned

    return run_tuned(args)


def _cmd_dispatch(args: argparse.Namespace) -> int:
    from benchmarks.dispatch import run_dispatch_bench

    report = run_dispatch_bench(args.home, overhead_n=args.overhead_n, commands=args.commands, outage_s=args.outage_s)
    print(json.dumps(report, indent=2))
    _write(args.json, report)
    return 0 if report["restart"]["lost"] == 0 else 1


def _cmd_audio(args: argparse.Namespace) -> int:
    from edge_assistant.config import load_settings

    settings = load_settings(args.config)
    if args.suite == "real":
        from benchmarks.real_speech import run_real_bench

        engine = args.engines or settings.stt.engine
        snrs = args.snr.split(",")
        snr = float(snrs[0]) if len(snrs) == 1 and snrs[0] != "clean" else None  # the synthetic default: clean
        report = run_real_bench(
            settings,
            engine,
            Path(args.real),
            Path(args.home),
            use_model=not args.templates_only,
            snr=snr,
            realtime=args.realtime,
        )
        _emit({k: v for k, v in report.items() if k != "recordings"})
        _write(args.json, report)
        return 0
    if args.suite == "names":
        from benchmarks.heard_names import run_names_bench

        report = run_names_bench(settings, Path(args.home), Path(args.real))
        _emit({k: v for k, v in report.items() if k != "rows"})
        _write(args.json, report)
        return 0
    if args.suite == "natural":
        from benchmarks.natural_speech import run_natural_bench

        report = run_natural_bench(settings, args.engines or settings.stt.engine, Path(args.data), args.limit)
        _emit({k: v for k, v in report.items() if k != "misses_by_voice"})
        _write(args.json, report)
        return 0
    from benchmarks.audio import run_audio_bench

    engines = (args.engines or settings.stt.engine).split(",")
    report = run_audio_bench(settings, Path(args.home), engines, args.snr.split(","), use_model=not args.templates_only)
    _emit(report)
    _write(args.json, report)
    return 0


def _cmd_soak(args: argparse.Namespace) -> int:
    from benchmarks.soak import run_soak

    report = run_soak(Path(args.home), args.text, args.audio)
    print(json.dumps(report, indent=2))
    _write(args.json, report)
    return 0


def _cmd_wyoming(args: argparse.Namespace) -> int:
    from benchmarks.wyoming import run_wyoming_bench

    counts = [int(n) for n in args.satellites.split(",")]
    report = run_wyoming_bench(Path(args.home), Path(args.config) if args.config else None, counts, args.rounds,
                               args.templates_only)  # fmt: skip
    print(json.dumps(report, indent=2))
    _write(args.json, report)
    return 0 if all(run["lost"] == 0 for run in report["runs"]) else 1


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=str(SHARED_DATA), help="the shared/benchmarks directory")


def _add_home(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", default=str(EXAMPLE_HOME), help="home YAML (default: deploy/home.example.yaml)")


def _register_nlu(suites: Subcommands) -> None:
    b = suites.add_parser("nlu", help="text -> intent accuracy and latency on ../shared/benchmarks")
    _add_data(b)
    add_config(b)
    add_model(b)
    b.add_argument("--anchor-every", type=int, default=10, help="naive-llama anchor on every Nth case (0: skip)")
    add_json_out(b)
    b.set_defaults(func=_cmd_nlu)
    for name, dev, help_text in (
        ("nlu-tuned", False, "bench nlu for the base model and LoRA adapters side by side"),
        ("nlu-dev", True, "the development set (NLU-Eval iot rows outside SLURP) and its negatives, with every miss"),
    ):
        t = suites.add_parser(name, help=help_text)
        _add_data(t)
        add_config(t)
        add_model(t, help="base GGUF (default: [model] path)")
        t.add_argument("--adapter", action="append", help="NAME=PATH of an adapter to compare (repeatable)")
        t.add_argument("--skip-base", action="store_true", help="only the adapters")
        t.add_argument("--no-shipped", action="store_true", help="leave out the shipped adapter of the default model")
        add_json_out(t)
        if not dev:
            t.add_argument(
                "--anchor-every", type=int, default=0, help="naive-llama anchor on every Nth case (base only)"
            )
        t.set_defaults(func=_cmd_tuned, dev=dev, **({"anchor_every": 0} if dev else {}))


def register_suites(suites: Subcommands) -> None:
    """Add every benchmark suite to ``suites`` (the subcommands of ``bench``)."""
    _register_nlu(suites)
    b = suites.add_parser("nlu-multi", help="several commands in one utterance (the multi_commands suite of bench nlu)")
    add_config(b)
    add_model(b)
    b.add_argument("--size", type=int, default=240, help="about how many utterances to generate")
    add_json_out(b)
    b.set_defaults(func=_cmd_multi)
    b = suites.add_parser("dispatch", help="dispatch overhead (log, mqtt) and 1,000 commands over a restart")
    _add_home(b)
    b.add_argument("--overhead-n", type=int, default=500, help="commands per handler for the overhead")
    b.add_argument("--commands", type=int, default=1000, help="commands sent across the broker restart")
    b.add_argument("--outage-s", type=float, default=1.0, help="how long the broker stays down")
    add_json_out(b)
    b.set_defaults(func=_cmd_dispatch)

    b = suites.add_parser("audio", help="synthesised commands in noise: acceptance, false accepts, RTF, latency")
    _add_home(b)
    add_config(b)
    b.add_argument(
        "--suite",
        choices=("synthetic", "real", "natural", "names"),
        default="synthetic",
        help="synthetic: synthesised commands in noise on --home; real: the real_speech_en recordings on their"
        " home; natural: development sentences no template holds, spoken by Piper; names: refusals for a"
        " name the home lacks, weighed on the audio (wrong renames, the gap)",
    )
    b.add_argument(
        "--engines", default="", help="comma-separated engines (synthetic; real and natural: one); default [stt] engine"
    )
    b.add_argument(
        "--snr",
        default="clean,24,18,12,6",
        help="synthetic: comma-separated SNRs in dB, 'clean' for none; real: one SNR (pink noise into each recording)",
    )
    b.add_argument("--real", default=str(SHARED_DATA / "real_speech_en"), help="real: the real_speech_en directory")
    b.add_argument("--templates-only", action="store_true", help="synthetic, real: parse without the intent model")
    b.add_argument(
        "--realtime", action="store_true", help="real: play each recording at the pace of speech (live latency)"
    )
    b.add_argument("--data", default=str(SHARED_DATA), help="natural: the shared/benchmarks directory")
    b.add_argument("--limit", type=int, default=80, help="natural: how many sentences to speak (0: all)")
    add_json_out(b)
    b.set_defaults(func=_cmd_audio)

    b = suites.add_parser("soak", help="the service fed text and spoken commands at full speed: memory, fds")
    _add_home(b)
    b.add_argument("--text", type=int, default=10000, help="text utterances (0: skip)")
    b.add_argument("--audio", type=int, default=300, help="spoken utterances (0: skip)")
    add_json_out(b)
    b.set_defaults(func=_cmd_soak)

    b = suites.add_parser("wyoming", help="1, 4 and 8 satellites speaking at once into one hub: latency, RSS, losses")
    _add_home(b)
    add_config(b, "hub config TOML ([wyoming] asr_sessions, [stt] ...); the log handler is added")
    b.add_argument("--satellites", default="1,4,8", help="comma-separated counts of satellites")
    b.add_argument("--rounds", type=int, default=6, help="commands each satellite says")
    b.add_argument("--templates-only", action="store_true", help="the hub loads no intent model")
    add_json_out(b)
    b.set_defaults(func=_cmd_wyoming)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks``: run one suite; returns the process exit status."""
    from edge_assistant.cli import run_command

    top = argparse.ArgumentParser(prog="python -m benchmarks", description="The benchmarks of edge-assistant.")
    top.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    register_suites(top.add_subparsers(dest="suite", required=True))
    return run_command(top.parse_args(argv))
