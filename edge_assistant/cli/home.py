"""``edge-assistant import-home``: a home file from a running Home Assistant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_assistant.cli.options import Subcommands, add_config

__all__ = ["register"]


def _cmd_import_home(args: argparse.Namespace) -> int:
    from edge_assistant.config import load_settings
    from edge_assistant.errors import ConfigError
    from edge_assistant.handlers.settings import HomeAssistantSettings
    from edge_assistant.homeimport import import_home

    configured = load_settings(args.config).handlers.homeassistant
    settings = configured or HomeAssistantSettings()
    updates = {k: v for k, v in (("url", args.url), ("token_file", args.token_file)) if v}
    if updates:
        settings = HomeAssistantSettings.model_validate({**settings.model_dump(), **updates})
    if configured is None and not args.url:
        raise ConfigError("say where Home Assistant is: --url, or [handlers.homeassistant] url in --config")
    text = import_home(settings)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {text.splitlines()[0].removeprefix('# ')}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def register(commands: Subcommands) -> None:
    """Add ``import-home``."""
    p = commands.add_parser(
        "import-home",
        help="a home file from Home Assistant's floors, areas and entities ([handlers.homeassistant] url and token)",
    )
    add_config(p)
    p.add_argument("--url", help="Home Assistant's URL (default: [handlers.homeassistant] url)")
    p.add_argument("--token-file", help="a file holding a long-lived access token (default: token_file or $HASS_TOKEN)")
    p.add_argument("--out", help="write the home file here (default: stdout)")
    p.set_defaults(func=_cmd_import_home)
