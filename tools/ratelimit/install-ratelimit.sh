#!/usr/bin/env bash
# Installs Envoy's reference rate limit service (envoyproxy/ratelimit, the `ShouldRateLimit` gRPC server on
# Redis) outside the repository, and prints the environment to use it:
#   eval "$(tools/ratelimit/install-ratelimit.sh)"
#
# - envoyproxy/ratelimit at the pinned commit below, built with `go install` (Go >= 1.25) into
#   $TOLLGATE_CACHE/ratelimit-<commit>/bin/ratelimit → RATELIMIT_PATH
# - redis-server is a Debian package (.ci/run installs it); this script only reports where it is →
#   REDIS_SERVER_PATH when found.
#
# Idempotent: a binary already built from the pinned module version is kept. Progress goes to stderr; stdout
# carries only `export` lines. TOLLGATE_CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/tollgate.
set -euo pipefail

# The pin: the Go module proxy's pseudo-version of envoyproxy/ratelimit commit 3fb702589d36 (2026-01-22;
# the repository has no release tags newer than v1.4.0 of 2019). Change it here only.
RATELIMIT_MODULE=github.com/envoyproxy/ratelimit
RATELIMIT_PIN=v1.4.1-0.20260122083618-3fb702589d36

for a in "$@"; do
  case "$a" in
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "install-ratelimit.sh: unknown option '$a' (known: --help)" >&2; exit 2 ;;
  esac
done

log() { echo "install-ratelimit: $*" >&2; }
cache="${TOLLGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate}"
commit="${RATELIMIT_PIN##*-}"
bindir="$cache/ratelimit-$commit/bin"
bin="$bindir/ratelimit"

built_version() { go version -m "$1" 2>/dev/null | awk -v m="$RATELIMIT_MODULE" '$1 == "mod" && $2 == m { print $3 }'; }

command -v go >/dev/null || { log "go is required to build envoyproxy/ratelimit (https://go.dev/dl/, Go >= 1.25)"; exit 1; }
if [ -x "$bin" ] && [ "$(built_version "$bin")" = "$RATELIMIT_PIN" ]; then
  log "envoyproxy/ratelimit $RATELIMIT_PIN already installed: $bin"
else
  log "building envoyproxy/ratelimit $RATELIMIT_PIN with go install into $bindir"
  mkdir -p "$bindir"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # The module's main package is src/service_cmd; go install names the binary after it.
  GOBIN="$tmp" go install "$RATELIMIT_MODULE/src/service_cmd@$RATELIMIT_PIN" >&2
  mv "$tmp/service_cmd" "$bin"
  got="$(built_version "$bin")"
  [ "$got" = "$RATELIMIT_PIN" ] || { log "expected $RATELIMIT_MODULE $RATELIMIT_PIN in $bin, it reports '${got:-nothing}'"; exit 1; }
  log "envoyproxy/ratelimit $got: $bin"
fi

printf 'export RATELIMIT_PATH=%q\n' "$bin"
redis="$(command -v redis-server || true)"
if [ -n "$redis" ]; then
  printf 'export REDIS_SERVER_PATH=%q\n' "$redis"
else
  log "redis-server not found (Debian: apt-get install redis-server); the global rate limit tests need it"
fi
