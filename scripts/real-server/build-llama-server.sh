#!/usr/bin/env bash
# Builds llama.cpp's llama-server once, from the llama.cpp source that the npm
# package node-llama-cpp ships as a git bundle, into a cache outside the repo:
#   ${MODELSWAP_CACHE:-${XDG_CACHE_HOME:-~/.cache}/modelswap}/llama-server/<commit>-<flags-hash>/
# and reuses it afterwards. Prints the cache directory as its last stdout line;
# the directory holds bin/llama-server and vocab/ggml-vocab-llama-spm.gguf.
#
# llama.cpp's web UI is not in the bundle (only its Svelte source), so the
# files in ui-stand-in/ are embedded in its place (tools/ui/dist, llama.cpp's
# way of supplying pre-built UI assets, with the file names it requires):
# llama-server serves them gzip-only, as it serves its own UI. Their hash is
# part of the cache key.
#
# An interrupted build resumes in <dir>.tmp (same commit and flags).
#
# Nothing but the npm registry (npm pack, no install scripts) and, on a fresh
# machine, Debian's apt (cmake, ninja-build, g++, git) is used.
set -euo pipefail

NLC_VERSION=3.21.1
NLC_INTEGRITY='sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg=='
FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DGGML_NATIVE=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_UI=OFF
)
JOBS=${MODELSWAP_BUILD_JOBS:-2}
CACHE=${MODELSWAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelswap}
UI_DIR="$(cd "$(dirname "$0")" && pwd)/ui-stand-in"

log() { echo "[build-llama-server] $*" >&2; }

need_tools() {
  local missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v ninja >/dev/null || missing+=(ninja-build)
  command -v g++ >/dev/null || missing+=(g++)
  command -v git >/dev/null || missing+=(git)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing with apt-get: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  if ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]} and no apt-get: install them and re-run"; exit 1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

mkdir -p "$CACHE/npm" "$CACHE/llama-server"
exec 9>"$CACHE/llama-server/.lock"
flock 9 # one build at a time; a second run waits, then reuses the result

tgz="$CACHE/npm/node-llama-cpp-$NLC_VERSION.tgz"
bundle="$CACHE/npm/node-llama-cpp-$NLC_VERSION.bundle"
if [ ! -f "$bundle" ]; then
  if [ ! -f "$tgz" ]; then
    log "npm pack node-llama-cpp@$NLC_VERSION (35 MB; no install scripts run)"
    (cd "$CACHE/npm" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >&2)
  fi
  got=$(node -e 'const c = require("node:crypto"); process.stdout.write("sha512-" + c.createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  if [ "$got" != "$NLC_INTEGRITY" ]; then
    rm -f "$tgz"; log "integrity mismatch for $tgz"; exit 1
  fi
  tmpx=$(mktemp -d "$CACHE/npm/x.XXXXXX")
  tar xzf "$tgz" -C "$tmpx" package/llama/gitRelease.bundle
  mv "$tmpx/package/llama/gitRelease.bundle" "$bundle"
  rm -rf "$tmpx" "$tgz"
fi

need_tools
commit=$(git bundle list-heads "$bundle" | awk '$2=="HEAD"{print $1}')
[ -n "$commit" ] || { log "no HEAD in $bundle"; exit 1; }
ui_hash=$(cd "$UI_DIR" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64)
flags_hash=$( (printf '%s\n' "${FLAGS[@]}"; echo "$ui_hash") | sha256sum | cut -c1-10)
dir="$CACHE/llama-server/${commit:0:12}-$flags_hash"

if [ -x "$dir/bin/llama-server" ] && [ -f "$dir/vocab/ggml-vocab-llama-spm.gguf" ]; then
  log "cached: $dir"
  echo "$dir"; exit 0
fi

work="$dir.tmp"
if [ -f "$work/build/build.ninja" ] && [ "$(git -C "$work/src" rev-parse HEAD 2>/dev/null)" = "$commit" ]; then
  log "resuming the interrupted build in $work"
else
  rm -rf "$work"
  mkdir -p "$work"
  log "cloning llama.cpp $commit from the bundle"
  git clone -q "$bundle" "$work/src" 2>/dev/null
  git -C "$work/src" -c advice.detachedHead=false checkout -q "$commit"
fi
rm -rf "$work/src/tools/ui/dist"
cp -r "$UI_DIR" "$work/src/tools/ui/dist"
log "configuring: ${FLAGS[*]}"
cmake -S "$work/src" -B "$work/build" -G Ninja "${FLAGS[@]}" >&2
start=$(date +%s)
log "building llama-server with -j$JOBS (10-12 minutes on 2 cores)"
nice -n 10 cmake --build "$work/build" --target llama-server -j "$JOBS" >&2
log "built in $(( $(date +%s) - start )) s"
mkdir -p "$work/out/bin" "$work/out/vocab"
cp "$work/build/bin/llama-server" "$work/out/bin/"
cp "$work/src/models/ggml-vocab-llama-spm.gguf" "$work/out/vocab/"
printf 'node-llama-cpp %s\ncommit %s\nflags %s\nui %s\n' "$NLC_VERSION" "$commit" "${FLAGS[*]}" "$ui_hash" > "$work/out/BUILD-INFO"
"$work/out/bin/llama-server" --version >&2 2>&1 || true
rm -rf "$dir"
mv "$work/out" "$dir"
rm -rf "$work"
log "done: $dir"
echo "$dir"
