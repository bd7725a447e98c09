/**
 * The bare Bun proxy (`bench/bun-proxy.ts`: `Bun.serve` plus `fetch`) with
 * what modelswap does per request, written as plainly as Bun allows: the
 * floor for a proxy with modelswap's features, where `bun-proxy.ts` is the
 * floor for one without. Per request: the body read whole and parsed for its
 * model, the client's address, an abort link to the client's signal in a
 * cancel registry, the idle cut lifted, an in-flight count standing for the
 * lease, the request headers copied without hop-by-hop fields, the answer
 * read whole and its `usage` parsed, then an activity row in a 1,000-row
 * ring, a capture of both header sets and bodies in a 5 MB ring, per-model
 * counters and a latency histogram, and the llama-swap request log line
 * written to stdout in 5 ms batches. No scheduler, no Worker, no model
 * lookup, no watchdogs: anything it leaves out only makes it cheaper. With
 * `pooled` it sends upstream over modelswap's pooled HTTP/1.1 client
 * (src/lib/http1) instead of `fetch`. With `skip=F,...` it leaves out the
 * features named (`floor-feature-list.ts`), one measurement of what each costs in Bun
 * (`bench/feature-cost.ts`). Used by `bench/ladder.ts`.
 *
 *   bun bench/floor-features.ts PORT UPSTREAM_URL [pooled] [skip=FEATURE,...]
 */
import { http1Fetch } from "../src/lib/http1/client.ts";
import { FEATURES } from "./floor-feature-list.ts";

const [portArg, upstream, ...flags] = process.argv.slice(2);
const pooled = flags.includes("pooled");
if (portArg === undefined || upstream === undefined) throw new TypeError("Usage: bun bench/floor-features.ts PORT UPSTREAM_URL [pooled] [skip=FEATURE,...]");

const skipped = new Set((flags.find((f) => f.startsWith("skip="))?.slice(5) ?? "").split(",").filter(Boolean));
for (const f of skipped) if (!(FEATURES as readonly string[]).includes(f)) throw new TypeError(`Cannot skip '${f}': the features are ${FEATURES.join(", ")}`);
const on = (f: (typeof FEATURES)[number]): boolean => !skipped.has(f);
/** Whether the deferred row has anything to do. */
const recording = on("usage") || on("row") || on("capture") || on("metrics") || on("log");

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host"];
const SECRETS = ["authorization", "proxy-authorization", "x-api-key", "cookie", "api-key"];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, Infinity];
const decoder = new TextDecoder();

interface Series {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  buckets: number[];
}
const series = new Map<string, Series>();
/** The last 1,000 rows, as a ring. */
const activity: object[] = new Array(1000);
let nextRow = 0;
/** Captures oldest first from `firstCapture` (a head index: `shift` would move every entry per request). */
let captures: { bytes: number; capture: object }[] = [];
let firstCapture = 0;
let captureBytes = 0;
const registry = new Map<number, { model: string; path: string; client: string; startedAt: number; abort: AbortController | null }>();
let nextId = 0;
let inflight = 0;

const out = Bun.stdout.writer();
let pendingLines = "";
let flushTimer: ReturnType<typeof setTimeout> | null = null;
function logLine(line: string): void {
  pendingLines += line + "\n";
  flushTimer ??= setTimeout(() => {
    out.write(pendingLines);
    out.flush();
    pendingLines = "";
    flushTimer = null;
  }, 5);
}

function record(model: string, path: string, client: string, req: Request, reqBody: Uint8Array, res: Response, answer: Uint8Array, started: number, time: number): void {
  const ms = performance.now() - started;
  let prompt = 0;
  let completion = 0;
  if (on("usage")) {
    try {
      const usage = (JSON.parse(decoder.decode(answer)) as { usage?: { prompt_tokens?: number; completion_tokens?: number } }).usage;
      prompt = usage?.prompt_tokens ?? 0;
      completion = usage?.completion_tokens ?? 0;
    } catch {
      // not JSON: no tokens
    }
  }
  if (on("row")) {
    activity[nextRow++ % activity.length] = { timestamp: new Date(time).toISOString(), model, req_path: path, resp_status_code: res.status, duration_ms: ms, prompt_tokens: prompt, completion_tokens: completion };
  }
  if (on("capture")) {
    // Credentials never reach a capture (modelswap redacts them as llama-swap does).
    const reqHeaders = Object.fromEntries(req.headers);
    for (const secret of SECRETS) if (reqHeaders[secret] !== undefined) reqHeaders[secret] = "[REDACTED]";
    const capture = { reqHeaders, resHeaders: Object.fromEntries(res.headers), reqBody, resBody: answer };
    const bytes = reqBody.byteLength + answer.byteLength;
    captures.push({ bytes, capture });
    captureBytes += bytes;
    while (captureBytes > 5 * 1024 * 1024) captureBytes -= captures[firstCapture++]!.bytes;
    if (firstCapture > 4096) {
      captures = captures.slice(firstCapture);
      firstCapture = 0;
    }
  }
  if (on("metrics")) {
    let s = series.get(model);
    if (s === undefined) series.set(model, (s = { requests: 0, promptTokens: 0, completionTokens: 0, buckets: BUCKETS.map(() => 0) }));
    s.requests++;
    s.promptTokens += prompt;
    s.completionTokens += completion;
    s.buckets[BUCKETS.findIndex((b) => ms / 1000 <= b)]!++;
  }
  if (on("log")) logLine(`Request ${client} "${req.method} ${path} HTTP/1.1" ${res.status} ${answer.byteLength} "${req.headers.get("user-agent") ?? ""}" ${ms.toFixed(1)}ms model=${model}`);
}

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(portArg),
  idleTimeout: 30,
  routes: {
    "/v1/chat/completions": {
      POST: async (req, server) => {
        const started = performance.now();
        const time = Date.now();
        const path = "/v1/chat/completions";
        const reqBody = new Uint8Array(await req.arrayBuffer());
        const model = on("parse") ? (JSON.parse(decoder.decode(reqBody)) as { model?: unknown }).model : "bench";
        if (typeof model !== "string") return Response.json({ error: { message: "missing model" } }, { status: 400 });
        const client = on("ip") ? (server.requestIP(req)?.address ?? "-") : "-";
        // Without it the upstream request takes the client's own signal.
        const abort = on("abort") ? new AbortController() : null;
        if (abort !== null) req.signal.addEventListener("abort", () => abort.abort(), { once: true });
        const signal = abort?.signal ?? req.signal;
        const id = nextId++;
        if (on("registry")) registry.set(id, { model, path, client, startedAt: time, abort });
        if (on("timeout")) server.timeout(req, 0);
        inflight++;
        try {
          const headers = new Headers(on("headers") ? req.headers : { "content-type": "application/json" });
          if (on("headers")) for (const h of HOP_BY_HOP) headers.delete(h);
          const res = pooled
            ? await http1Fetch(new URL(upstream + path), { method: "POST", headers, body: reqBody, signal, connectTimeoutMs: 0, tcpKeepAliveMs: 0 })
            : await fetch(upstream + path, { method: "POST", headers, body: reqBody, signal, redirect: "manual", timeout: false, decompress: false } as RequestInit);
          const answer = new Uint8Array(await res.arrayBuffer());
          const resHeaders = on("headers") ? new Headers(res.headers) : res.headers;
          if (on("headers")) for (const h of HOP_BY_HOP) resHeaders.delete(h);
          if (recording) setImmediate(() => record(model, path, client, req, reqBody, res, answer, started, time));
          return new Response(answer, { status: res.status, headers: resHeaders });
        } finally {
          inflight--;
          registry.delete(id);
        }
      },
    },
  },
  fetch: () => new Response("Cannot find route: only POST /v1/chat/completions", { status: 404 }),
});
console.log("floor-features: listening");
