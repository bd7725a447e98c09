/**
 * What a proxied request's bookkeeping costs once its answer went out, in a
 * hot loop: its activity record (token count, row, capture, Prometheus
 * series, the row's event) with captures on and off, and its request log
 * line through the log hub (stdout replaced by a counter). A floor for one
 * change at a time: in `npm run bench`'s 64-connection load the same work
 * takes ~3-4 × as long (timed inside modelswap: 24-34 µs a request for the
 * record and its log line, against ~8 µs here), and leaving it out altogether
 * gave 0.76-0.81 × the CPU per request (README § Benchmarks).
 *
 * Also the token count of a long answer (an embeddings answer of ~500 KB):
 * parsed whole, and searched from its end (`tokensFromJsonBody`).
 *
 *   ./node_modules/.bin/bun bench/finish-cost.ts [--records 100000] [--rounds 12]
 */
import { parseArgs } from "node:util";
import { logRequest } from "../src/http/request-log.ts";
import { MetricsHub } from "../src/metrics/metrics-hub.ts";
import { RequestRecord } from "../src/metrics/request-record.ts";
import { tokensFromJson } from "../src/metrics/tokens.ts";
import { tokensFromJsonBody } from "../src/metrics/json-usage.ts";
import { createLogHub } from "../src/observe/log-hub.ts";
import { createProxyLogger } from "../src/observe/proxy-log.ts";
import type { Config } from "../src/config/types.ts";
import { median } from "./probes.ts";

const { values: opts } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    rounds: { type: "string", default: "12" },
  },
});
const N = Number(opts.records);
const ROUNDS = Number(opts.rounds);

// The benchmark's chat request and the fake upstream's answer to it.
const reqBody = JSON.stringify({ model: "bench", stream: false, messages: [{ role: "user", content: "Say hi" }] });
const answer = new TextEncoder().encode(
  JSON.stringify({
    id: "chatcmpl-fake-1", object: "chat.completion", created: 1796292939, model: "bench",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello from the fake upstream, one token at a time, twenty of them in all" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 },
  }),
);
const reqHeaders = new Headers({ host: "127.0.0.1:8080", "content-type": "application/json", "content-length": String(reqBody.length) });
const respHeaders = new Headers({ "content-type": "application/json", date: new Date().toUTCString(), "content-length": String(answer.length) });

/** µs per call of `one` over `calls` calls, min and median of `ROUNDS` rounds. */
function time(one: (i: number) => void, calls = N): { min: number; median: number } {
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) one(i);
    per.push(((performance.now() - t0) * 1000) / calls);
  }
  return { min: Math.min(...per), median: median(per) };
}

function records(captureMb: number): { min: number; median: number } {
  const hub = new MetricsHub({ metricsMaxInMemory: 1000, captureBuffer: captureMb });
  return time(() => {
    const rec = new RequestRecord(hub, { model: "bench", path: "/v1/chat/completions", started: performance.now(), time: Date.now(), reqHeaders, reqBody });
    rec.response(200, respHeaders);
    rec.body(answer);
    rec.finish(null);
  });
}

function logLines(): { min: number; median: number } {
  const config = { logLevel: "info", logFormat: "text", logTimeFormat: "", logToStdout: "proxy" } as Config;
  let chars = 0;
  const log = createProxyLogger(config, createLogHub(config, (line) => void (chars += line.length)));
  return time((i) =>
    logRequest(log, {
      client: "127.0.0.1", method: "POST", path: "/v1/chat/completions", status: 200, bytes: 400 + (i % 50),
      userAgent: "", durationMs: 1.2 + (i % 7) / 10, model: "bench",
    }),
  );
}

/** An embeddings answer of 24 × 1024 numbers (~500 KB), usage last, as OpenAI and llama-server send it. */
const embeddings = new TextEncoder().encode(
  JSON.stringify({
    object: "list", model: "bench",
    data: Array.from({ length: 24 }, (_, i) => ({ object: "embedding", index: i, embedding: Array.from({ length: 1024 }, (_, j) => Math.sin(i * 1024 + j)) })),
    usage: { prompt_tokens: 480, total_tokens: 480 },
  }),
);

/** µs per token count of `embeddings`, over fewer calls than the rows (each reads ~500 KB). */
function longAnswer(count: (b: Uint8Array) => unknown): { min: number; median: number } {
  return time(() => count(embeddings), Math.max(1, Math.round(N / 500)));
}

const decoder = new TextDecoder();
const show = (name: string, t: { min: number; median: number }) => console.log(`${name.padEnd(34)} min ${t.min.toFixed(2)}  median ${t.median.toFixed(2)} µs`);
show("activity record, captures on (5 MB)", records(5));
show("activity record, captures off", records(0));
show("request log line", logLines());
show(`tokens of a ${Math.round(embeddings.length / 1024)} KB answer, parsed whole`, longAnswer((b) => tokensFromJson(decoder.decode(b))));
show(`tokens of a ${Math.round(embeddings.length / 1024)} KB answer, from its end`, longAnswer((b) => tokensFromJsonBody(b)));
