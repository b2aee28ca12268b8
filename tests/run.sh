#!/usr/bin/env bash
# Set up everything the test suite needs, then run it. CI runs exactly this (.ci/run).
# Works on a fresh Debian / Raspberry Pi OS machine with network access to the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cmake >/dev/null 2>&1 || ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3-venv build-essential cmake >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# llama-cpp-python compiles once (~12 min on 2 cores); pip's wheel cache makes later runs fast.
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[llm,dev]'
.venv/bin/edge-assistant models pull default

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy edge_assistant
.venv/bin/python -m pytest -q "$@"
