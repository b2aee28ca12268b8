#!/usr/bin/env bash
# Install edge-assistant as a systemd service on Raspberry Pi OS Bookworm (aarch64) or
# JetPack 6 (Ubuntu 22.04, Python 3.10, CUDA). Run from a clone of the repository:
#
#   sudo deploy/install.sh [--stt whisper|moonshine|pocketsphinx|vosk] [--no-start] [--models-from DIR] [--root DIR]
#   sudo deploy/install.sh --uninstall [--purge]
#
# Creates the user `edge-assistant` (groups audio, gpio), a venv in /opt/edge-assistant/venv,
# /etc/edge-assistant/{config.toml,home.yaml} (kept if present), /var/lib/edge-assistant/models
# with the models pulled from the registries, the unit with a network drop-in that allows only
# loopback and the configured handler hosts, then enables and starts the service.
# --models-from DIR copies already downloaded models (a USB stick, another checkout's models/)
# instead of pulling them; they are verified against the manifest either way.
# --root DIR stages everything under DIR without touching users or systemd (used by the tests).
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
ROOT=""
STT="whisper"
START=1
UNINSTALL=0
PURGE=0
MODELS_FROM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --stt) STT="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    --root) ROOT="$(realpath -m "$2")"; START=0; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    --models-from) MODELS_FROM="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$STT" in pocketsphinx|vosk|whisper|moonshine) ;;
  *) echo "install.sh: --stt must be whisper, moonshine, pocketsphinx or vosk" >&2; exit 2 ;; esac

OPT="$ROOT/opt/edge-assistant"
ETC="$ROOT/etc/edge-assistant"
VAR="$ROOT/var/lib/edge-assistant"
UNIT_DIR="$ROOT/etc/systemd/system"
SVC=edge-assistant
log() { echo "install.sh: $*"; }
system() { [ -z "$ROOT" ]; }

if [ "$(id -u)" -ne 0 ] && system; then
  echo "install.sh: run as root (sudo), or stage with --root DIR" >&2; exit 1
fi

if [ "$UNINSTALL" -eq 1 ]; then
  if system && command -v systemctl >/dev/null; then
    systemctl disable --now "$SVC" 2>/dev/null || true
  fi
  rm -f "$UNIT_DIR/$SVC.service"; rm -rf "$UNIT_DIR/$SVC.service.d" "$OPT"
  if [ "$PURGE" -eq 1 ]; then
    rm -rf "$ETC" "$VAR"
    system && id "$SVC" >/dev/null 2>&1 && userdel "$SVC"
    log "removed the service, the venv, the config, the models and the user"
  else
    log "removed the service and the venv; kept $ETC and $VAR (use --purge to remove them)"
  fi
  system && command -v systemctl >/dev/null && systemctl daemon-reload || true
  exit 0
fi

# --- platform -------------------------------------------------------------------------------
CMAKE_ARGS="${CMAKE_ARGS:-}"
if [ -f /etc/nv_tegra_release ] || [ -d /usr/local/cuda ]; then
  # JetPack: build llama.cpp with CUDA so [model] n_gpu_layers can offload to the GPU.
  CMAKE_ARGS="${CMAKE_ARGS} -DGGML_CUDA=on"
  export PATH="/usr/local/cuda/bin:$PATH"
  log "CUDA found: llama-cpp-python is built with -DGGML_CUDA=on"
fi
export CMAKE_ARGS
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "install.sh: Python >= 3.10 needed" >&2; exit 1; }

if system; then
  log "installing Debian packages"
  apt-get update -qq
  apt-get install -y -qq python3-venv python3-dev build-essential cmake libportaudio2 alsa-utils espeak-ng >/dev/null
  if ! id "$SVC" >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/edge-assistant --no-create-home --shell /usr/sbin/nologin "$SVC"
  fi
  for group in audio gpio; do getent group "$group" >/dev/null && usermod -aG "$group" "$SVC"; done
fi

# --- software ---------------------------------------------------------------------------------
mkdir -p "$OPT" "$ETC" "$VAR/models" "$UNIT_DIR/$SVC.service.d"
[ -x "$OPT/venv/bin/python" ] || "$PY" -m venv "$OPT/venv"
"$OPT/venv/bin/pip" install -q --upgrade pip
EXTRAS="llm,$STT,mqtt,gpio"
# An open-vocabulary engine runs behind pocketsphinx's grammar pass in grammar mode (hybrid).
case "$STT" in whisper|moonshine) EXTRAS="$EXTRAS,pocketsphinx" ;; esac
log "installing edge-assistant[$EXTRAS] (llama-cpp-python compiles: ~12 min on a Pi 5)"
"$OPT/venv/bin/pip" install -q "$SRC[$EXTRAS]"
EA="$OPT/venv/bin/edge-assistant"

# --- configuration (never overwritten) ----------------------------------------------------------
if [ ! -f "$ETC/config.toml" ]; then
  sed -e 's#^home = "home.example.yaml"#home = "home.yaml"#' -e "s#^engine = \"whisper\"#engine = \"$STT\"#" \
    "$SRC/deploy/config.example.toml" > "$ETC/config.toml"
fi
[ -f "$ETC/home.yaml" ] || cp "$SRC/deploy/home.example.yaml" "$ETC/home.yaml"
"$EA" doctor --config "$ETC/config.toml" --check config >/dev/null || {
  echo "install.sh: $ETC/config.toml is invalid; fix it and run install.sh again" >&2; exit 1; }

# --- models -----------------------------------------------------------------------------------
export EDGE_ASSISTANT_MODELS_DIR="$VAR/models"
MODELS="default"
case "$STT" in
  vosk) MODELS="default vosk-small-en-us" ;;
  whisper) MODELS="default whisper-tiny-en" ;;
  moonshine) MODELS="default moonshine-base-en" ;;
esac
if [ -n "$MODELS_FROM" ]; then
  cp -a "$MODELS_FROM"/. "$VAR/models/"
  "$EA" models verify $MODELS
else
  "$EA" models pull $MODELS
fi

# --- service ----------------------------------------------------------------------------------
sed "s#/opt/edge-assistant#${OPT#"$ROOT"}#g" "$SRC/deploy/edge-assistant.service" > "$UNIT_DIR/$SVC.service"
"$EA" doctor --config "$ETC/config.toml" --systemd-allow > "$UNIT_DIR/$SVC.service.d/network.conf"
if system; then
  chown -R "$SVC:$SVC" "$VAR"
  chown -R "root:$SVC" "$ETC"; chmod 0750 "$ETC"; chmod 0640 "$ETC"/*
  systemctl daemon-reload
  systemctl enable "$SVC" >/dev/null
  if [ "$START" -eq 1 ]; then
    systemctl restart "$SVC"
    log "started; follow it with: journalctl -u $SVC -f   and: sudo -u $SVC $EA status"
  fi
fi
log "done: config in $ETC, models in $VAR/models, unit $UNIT_DIR/$SVC.service"
