/** A proxied request becomes one Activity row: tokens from the end of the answer, TTFB, bytes, capture. */
import { describe, expect, test } from "bun:test";
import { MetricsHub, RequestRecord } from "../../../src/metrics/index.ts";
import type { ActivityEntry } from "../../../src/metrics/activity.ts";

const enc = new TextEncoder();
const init = (hub: MetricsHub) =>
  new RequestRecord(hub, {
    model: "llama",
    path: "/v1/chat/completions",
    started: performance.now(),
    time: Date.UTC(2026, 11, 1),
    reqHeaders: new Headers({ "content-type": "application/json", authorization: "Bearer secret" }),
    reqBody: '{"model":"llama"}',
  });

describe("RequestRecord", () => {
  test("a stream: usage from its last chunk, bytes counted, capture kept whole", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const rec = init(hub);
    rec.response(200, new Headers({ "content-type": "text/event-stream" }));
    const chunks = ['data: {"choices":[{"delta":{"content":"hi"}}]}\n\n', 'data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}\n\n', "data: [DONE]\n\n"];
    for (const c of chunks) rec.chunk(enc.encode(c));
    const row = rec.finish(null)!;
    expect(row).toMatchObject({ id: 1, model: "llama", resp_status_code: 200, resp_content_type: "text/event-stream", bytes: chunks.join("").length, has_capture: true, timestamp: "2026-12-01T00:00:00.000Z" });
    expect(row.tokens).toMatchObject({ input_tokens: 4, output_tokens: 2 });
    expect(row.ttfb_ms).toBeLessThanOrEqual(row.duration_ms);
    expect(row.error_msg).toBeUndefined();
    const cap = hub.captures.get(1)!;
    expect(Buffer.from(cap.resp_body, "base64").toString()).toBe(chunks.join(""));
    expect(cap.req_headers.authorization).toBe("[REDACTED]");
    expect(Buffer.from(cap.req_body, "base64").toString()).toBe('{"model":"llama"}');
    expect(rec.finish("again")).toBeNull();
    expect(hub.activity.all()).toHaveLength(1);
  });

  test("a JSON answer streamed without a length, longer than what is kept whole: usage read from its end", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const rec = init(hub);
    rec.response(200, new Headers({ "content-type": "application/json" }));
    const chunks = ['{"object":"list","data":[{"embedding":[', ...Array.from({ length: 3000 }, () => "0.125,"), '0.5]}],"usage":{"prompt_tokens":8,"total_tokens":8}}'];
    for (const c of chunks) rec.chunk(enc.encode(c));
    const row = rec.finish(null)!;
    expect(row.bytes).toBe(chunks.join("").length);
    expect(row.bytes).toBeGreaterThan(16 * 1024);
    expect(row.tokens).toMatchObject({ input_tokens: 8 });
  });

  test("a failed answer keeps the upstream's error message, and the capture has no response body", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const rec = init(hub);
    rec.response(400, new Headers({ "content-type": "application/json" }));
    rec.body(enc.encode('{"error":{"message":"context too long"}}'));
    const row = rec.finish(null)!;
    expect(row).toMatchObject({ resp_status_code: 400, error_msg: "context too long", has_capture: true });
    expect(hub.captures.get(row.id)!.resp_body).toBe("");
  });

  test("no answer at all: modelswap's own status and why", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 0 });
    const rec = init(hub);
    rec.status(502);
    expect(rec.finish("Cannot reach upstream")).toMatchObject({ resp_status_code: 502, error_msg: "Cannot reach upstream", bytes: 0, has_capture: false });
  });

  test("a stream longer than the capture budget keeps only the request in its capture", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const rec = init(hub);
    rec.response(200, new Headers({ "content-type": "text/event-stream" }));
    const big = new Uint8Array(600 * 1024).fill(32);
    rec.chunk(big);
    rec.chunk(big);
    const row = rec.finish(null)!;
    expect(row).toMatchObject({ bytes: 1200 * 1024, has_capture: true });
    expect(hub.captures.get(row.id)).toMatchObject({ resp_body: "" });
  });

  test("captures of requests in flight share the capture budget: once it is held, later streams keep no chunks", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const chunk = new Uint8Array(400 * 1024).fill(32);
    const a = init(hub);
    const b = init(hub);
    for (const r of [a, b]) r.response(200, new Headers({ "content-type": "text/event-stream" }));
    a.chunk(chunk);
    a.chunk(chunk);
    b.chunk(chunk); // a holds 800 KB of the 1 MB budget: b's capture keeps its request only
    expect(hub.captures.pending).toBeLessThanOrEqual(1024 * 1024);
    const rowB = b.finish(null)!;
    expect(hub.captures.get(rowB.id)).toMatchObject({ resp_body: "" });
    const rowA = a.finish(null)!;
    expect(Buffer.from(hub.captures.get(rowA.id)!.resp_body, "base64").byteLength).toBe(800 * 1024);
    expect(hub.captures.pending).toBe(0);
  });

  test("a request whose body does not fit the budget left gets no capture, and holds nothing", () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const big = new RequestRecord(hub, { model: "m", path: "/v1/chat/completions", started: performance.now(), time: Date.now(), reqHeaders: new Headers(), reqBody: "x".repeat(2 * 1024 * 1024) });
    big.response(200, new Headers({ "content-type": "text/event-stream" }));
    big.chunk(enc.encode("data: {}\n\n"));
    expect(hub.captures.pending).toBe(0);
    expect(big.finish(null)).toMatchObject({ has_capture: false });
  });
  test("end(), as the proxy calls it: the row is built after the current task, so the answer goes out first", async () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 1 });
    const rec = init(hub);
    rec.response(200, new Headers({ "content-type": "application/json" }));
    rec.body(enc.encode('{"usage":{"prompt_tokens":3,"completion_tokens":1}}'));
    const rows: ActivityEntry[] = [];
    rec.onFinish((e) => rows.push(e));
    rec.end(null);
    await Promise.resolve(); // the promise jobs of the current task: the handler returning its Response
    expect(rows).toHaveLength(0);
    expect(hub.activity.all()).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokens).toMatchObject({ input_tokens: 3, output_tokens: 1 });
    expect(hub.activity.all()).toHaveLength(1);
    expect(hub.captures.has(rows[0]!.id)).toBe(true);
  });

  test("a failure the caller records before the deferred end wins: the row gets the status the client got", async () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 0 });
    const rec = init(hub);
    rec.response(200, new Headers({ "content-type": "application/json" }));
    rec.end("the upstream body failed");
    rec.status(502);
    rec.finish("Cannot finish response: the upstream body failed");
    await new Promise((r) => setImmediate(r));
    expect(hub.activity.all()).toHaveLength(1);
    expect(hub.activity.all()[0]).toMatchObject({ resp_status_code: 502, error_msg: "Cannot finish response: the upstream body failed" });
  });
});

