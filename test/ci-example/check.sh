#!/usr/bin/env bash
# Tests swap, TTL unload and crash recovery against modelswap with --test-hooks,
# using nothing but curl. Usage: MODELSWAP=/path/to/modelswap ./check.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
modelswap=${MODELSWAP:-modelswap}
port=${PORT:-18080}
base="http://127.0.0.1:$port"

# shellcheck disable=SC2086 # MODELSWAP may be "bun src/main.ts"
$modelswap --config "$here/config.yaml" --listen "127.0.0.1:$port" --test-hooks &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
chat() { curl -sf "$base/v1/chat/completions" -H 'Content-Type: application/json' \
  -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"; }
running() { curl -sf "$base/running"; }
settle() { curl -sf "$base/test/settle?timeout=10s" >/dev/null || fail "modelswap did not settle"; }

# Wait (up to 10 s) until modelswap answers.
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
curl -sf "$base/health" >/dev/null || fail "modelswap did not start"

# 1. A request starts model-a; a request for model-b swaps it out.
chat model-a | grep -q '"model":"model-a"' || fail "model-a did not answer"
chat model-b | grep -q '"model":"model-b"' || fail "model-b did not answer"
settle
running | grep -q '"model-b"' || fail "model-b is not running"
running | grep -q '"model-a"' && fail "model-a still runs after the swap"

# 2. The TTL fires only when the test clock says so.
chat model-a >/dev/null
settle
curl -sf -X POST "$base/test/clock/advance" -d '{"ms": 59000}' >/dev/null
running | grep -q '"model-a"' || fail "model-a was unloaded before its TTL"
curl -sf -X POST "$base/test/clock/advance" -d '{"ms": 1000}' >/dev/null
settle
running | grep -q '"model-a"' && fail "model-a was not unloaded after its TTL"

# 3. A crashed model comes back on the next request.
chat model-b >/dev/null
curl -sf -X POST "$base/test/models/model-b/kill" >/dev/null
settle
running | grep -q '"model-b"' && fail "model-b still listed after it was killed"
chat model-b | grep -q '"model":"model-b"' || fail "model-b did not recover"

echo "OK: swap, TTL unload and crash recovery behave as expected"
