#!/usr/bin/env bash
# Checks swaps, TTL unloads, crash recovery and restart backoff against
# modelswap started with --test-hooks, using nothing but bash and curl, and
# without sleeping: the scheduler's clock moves only when this script says so,
# and /test/settle waits until every swap, start and stop has finished.
#
# Usage: MODELSWAP=/path/to/modelswap ./check.sh
#   MODELSWAP  how to run modelswap (default: `modelswap` on PATH)
#   CONFIG     the config to test (default: config.yaml next to this script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
modelswap=${MODELSWAP:-modelswap}
config=${CONFIG:-$here/config.yaml}

fail() { echo "FAIL: $*" >&2; exit 1; }

# Start modelswap in the background on a port the system picks, its output
# going into a named pipe that we read. On exit, stop it and wait until it has
# stopped its models.
pipe=$(mktemp -u) && mkfifo "$pipe"
# shellcheck disable=SC2086 # MODELSWAP may be a command with arguments, e.g. "bun src/main.ts"
$modelswap --config "$config" --listen 127.0.0.1:0 --test-hooks >"$pipe" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" || true' EXIT
exec {log}<"$pipe" && rm "$pipe"

# Read its address from the "listening on http://…" line, printed once it
# accepts requests: no polling, no sleep. Its log goes to our stderr.
base=
while IFS= read -r line <&"$log"; do
  echo "$line" >&2
  if [[ $line =~ listening\ on\ (http://[^ ]+) ]]; then base=${BASH_REMATCH[1]}; break; fi
done
[[ -n $base ]] || fail "modelswap did not start"
cat <&"$log" >&2 & # keep reading its log, or it would block once the pipe is full

# Sends one chat request for model $1 and prints the reply.
chat() {
  curl -sf "$base/v1/chat/completions" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
}

# Fails unless model $1 answers a request, from its own server process
# (the fake server names itself fake-$1 in the reply).
expect_answer() {
  local reply
  reply=$(chat "$1") || fail "$1 did not answer"
  [[ $reply == *"\"model\":\"fake-$1\""* ]] || fail "the reply for $1 came from elsewhere: $reply"
}

# GET /running lists models that are starting, ready or stopping, and those
# that failed (state "failed" or "backoff", with their error):
# {"running":[{"model":"model-a","state":"ready",…}]}
expect_ready() {
  local json
  json=$(curl -sf "$base/running") || fail "GET /running failed"
  [[ $json == *"\"model\":\"$1\",\"state\":\"ready\""* ]] || fail "$1 is not ready: $json"
}
expect_not_running() {
  local json
  json=$(curl -sf "$base/running") || fail "GET /running failed"
  for state in starting ready stopping; do
    [[ $json != *"\"model\":\"$1\",\"state\":\"$state\""* ]] || fail "$1 is still running: $json"
  done
}

# Waits until no swap, start or stop is in progress and no request is queued
# (HTTP 408 and what is still pending after 10 s of real time).
settle() { curl -sf "$base/test/settle?timeout=10s" >/dev/null || fail "modelswap did not settle"; }

# Moves modelswap's clock forward by $1 ms; returns once every timer due by
# then (TTL, health-check deadline, restart backoff) has fired and settled:
# {"now":60000,"settled":true}
advance() {
  local reply
  reply=$(curl -sf -X POST "$base/test/clock/advance" -H 'Content-Type: application/json' \
    -d "{\"ms\":$1}") || fail "cannot advance the clock"
  [[ $reply == *'"settled":true'* ]] || fail "modelswap did not settle after advancing the clock: $reply"
}

# SIGKILLs model $1's server, as a crash would; returns once modelswap noticed.
kill_model() {
  curl -sf -X POST "$base/test/models/$1/kill" >/dev/null || fail "cannot kill $1"
}

# Fails unless a request for model $1 is refused with 503 and a Retry-After
# header, as while a crashed model waits out its restart backoff.
expect_backoff() {
  local headers
  headers=$(curl -s -o /dev/null -D - "$base/v1/chat/completions" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
  [[ $headers =~ ^HTTP/[0-9.]+\ 503 ]] || fail "$1 was not refused with 503: $headers"
  [[ ${headers,,} == *"retry-after: "* ]] || fail "$1 was refused without Retry-After: $headers"
}

# 1. A request starts model-a; a request for model-b swaps model-a out.
expect_answer model-a
expect_answer model-b
settle
expect_ready model-b
expect_not_running model-a

# 2. model-a's 60 s TTL runs on the test clock only.
expect_answer model-a
settle
advance 59000
expect_ready model-a # idle for 59 s: still loaded
advance 1000
expect_not_running model-a # idle for 60 s: unloaded

# 3. A model that crashes after serving for a minute comes back on the next
#    request.
expect_answer model-b
advance 60000 # model-b has been ready for 60 s: a healthy period
kill_model model-b
settle
expect_not_running model-b
expect_answer model-b
expect_ready model-b

# 4. A model that crashes soon after it started is restarted only after a
#    backoff (1 s after the first crash, doubling): until then requests get 503.
kill_model model-b # ready for 0 s this time
expect_not_running model-b
expect_backoff model-b
advance 1000
expect_answer model-b
expect_ready model-b

echo "OK: swap, TTL unload, crash recovery and restart backoff behave as expected"
