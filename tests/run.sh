#!/usr/bin/env bash
# Set up everything the test suite needs, then run it. CI runs exactly this (.ci/run).
# Works on a fresh Debian / Raspberry Pi OS machine with network access to the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=0
for tool in cmake espeak-ng sox mosquitto openssl systemd-analyze strace; do command -v "$tool" >/dev/null 2>&1 || need_apt=1; done
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt=1
ldconfig -p 2>/dev/null | grep -q libportaudio.so.2 || need_apt=1
if [ "$need_apt" -eq 1 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # espeak-ng/sox synthesise test speech; mosquitto is the real broker for the mqtt handler
  # tests (started by the tests themselves on a free port); systemd gives systemd-analyze.
  $SUDO apt-get install -y -qq python3-venv build-essential cmake espeak-ng sox mosquitto openssl \
    libportaudio2 systemd strace iproute2 >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# llama-cpp-python compiles once (~12 min on 2 cores); pip's wheel cache makes later runs fast.
# Its native x86 build turns on Intel AMX where the CPU reports it, and llama.cpp 0.3.36's AMX
# matrix multiply crashes (SIGSEGV in ggml_backend_amx_mul_mat) in the Firecracker VMs that CI runs
# in, although the kernel grants the AMX state. Build without AMX there; a Pi is not affected.
if [ "$(uname -m)" = x86_64 ] && [ -z "${CMAKE_ARGS:-}" ]; then
  no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  export CMAKE_ARGS="-DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'"
fi
.venv/bin/pip install -q --upgrade pip
# The CPU build of torch first, so that the tune extra does not pull a CUDA build of several GB.
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[all,tune,dev]'
.venv/bin/edge-assistant models pull default
# The default open-vocabulary English engine (tests/model/test_stt_whisper.py).
.venv/bin/edge-assistant models pull whisper-tiny-en

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy edge_assistant tests benchmarks
.venv/bin/python -m pytest -q "$@"
