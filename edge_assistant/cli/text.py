"""The text commands: ``parse`` (text -> intent JSON) and ``handle`` (parse + dispatch)."""

from __future__ import annotations

import argparse

from edge_assistant.cli.options import Subcommands, add_config, add_home, add_model, add_templates_only
from edge_assistant.jsonl import emit as _emit
from edge_assistant.jsonl import stdin_lines

__all__ = ["register"]


def _cmd_parse(args: argparse.Namespace) -> int:
    from edge_assistant.config import load_settings
    from edge_assistant.nlu.dialogue import Dialogue
    from edge_assistant.runtime import build_parser, resolve_home_path

    settings = load_settings(args.config)
    home = resolve_home_path(settings, args.config, args.home)
    parser = build_parser(settings, home, args.model, use_model=not args.templates_only, config_path=args.config)
    if args.text is not None:
        _emit(parser.parse(args.text).model_dump())
        return 0
    dialogue = Dialogue()  # one conversation: a line may answer the question of the line before
    for number, line, error in stdin_lines():
        if line is None:
            _emit({"text": None, "intent": None, "line": number, "error": error})
        else:
            _emit(parser.parse(line, dialogue).model_dump())
    return 0


def _cmd_handle(args: argparse.Namespace) -> int:
    from edge_assistant.assistant import Assistant

    with Assistant.from_config(
        args.config,
        home=args.home,
        model=args.model,
        use_model=not args.templates_only,
        speak=args.say,
        dry_run=args.dry_run,
    ) as assistant:
        if args.text is not None:
            _emit(assistant.handle(args.text).to_json())
            return 0
        for number, text, error in stdin_lines():
            if text is None:
                _emit({"text": None, "intent": None, "line": number, "error": error, "actions": []})
            else:
                _emit(assistant.handle(text).to_json())
        return 0


def register(commands: Subcommands) -> None:
    """Add ``parse`` and ``handle``."""
    p = commands.add_parser("parse", help="text -> intent JSON (one line per utterance on stdin without TEXT)")
    add_home(p, help="home YAML (floors, areas, entities); default: [nlu] home of the config")
    add_config(p)
    add_model(p)
    add_templates_only(p)
    p.add_argument("text", nargs="?", help="the command; omit to read stdin")
    p.set_defaults(func=_cmd_parse)

    h = commands.add_parser("handle", help="text -> intent -> handlers; prints the parse plus its actions")
    add_home(h)
    add_config(h, help="config TOML ([handlers.*], [policy], [tts] ...)")
    add_model(h)
    add_templates_only(h)
    h.add_argument("--dry-run", action="store_true", help="log what would be done instead of acting")
    h.add_argument("--say", action="store_true", help="speak the replies with the [tts] engine")
    h.add_argument("text", nargs="?", help="the command; omit to read one per line from stdin")
    h.set_defaults(func=_cmd_handle)
