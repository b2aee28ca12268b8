"""`pip install edge-assistant[satellite]` is small: no language model, no speech engine, no torch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,unused-ignore]

pytestmark = pytest.mark.unit
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirements(extra: str, extras: dict[str, list[str]], base: list[str]) -> set[str]:
    """The distributions an extra pulls in, its own and the core's, following edge-assistant[...] references."""
    names: set[str] = set()
    for requirement in [*base, *extras[extra]]:
        name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
        if name == "edge-assistant":
            inner = re.search(r"\[(.*)\]", requirement)
            for sub in inner.group(1).split(",") if inner else []:
                names |= _requirements(sub.strip(), extras, [])
        else:
            names.add(name)
    return names


def test_the_satellite_extra_pulls_no_language_model() -> None:
    """The satellite's requirements hold the protocol and the microphone, and none of the hub's engines."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    satellite = _requirements("satellite", extras, project["dependencies"])
    hub = _requirements("wyoming", extras, project["dependencies"])
    assert {"wyoming", "sounddevice", "numpy", "zeroconf"} <= satellite  # zeroconf: Home Assistant discovers it
    assert not satellite & {"llama-cpp-python", "pocketsphinx", "vosk", "torch", "faster-whisper", "ctranslate2"}
    assert {"llama-cpp-python", "pocketsphinx", "wyoming", "zeroconf"} <= hub
