/** The Activity log in llama-swap's shapes, bounded by metricsMaxInMemory; captures bounded by bytes. */
import { describe, expect, test } from "bun:test";
import { ActivityLog, DEFAULT_QUERY, type NewActivity, histogram } from "../../../src/metrics/activity.ts";
import { redactHeaders } from "../../../src/metrics/captures.ts";
import { BLOCK_BYTES, CaptureStore } from "../../../src/metrics/capture-store.ts";
import { noTokens } from "../../../src/metrics/tokens.ts";

function row(over: Partial<NewActivity> = {}): NewActivity {
  return {
    timestamp: new Date(Date.UTC(2026, 11, 1)).toISOString(), model: "llama", req_path: "/v1/chat/completions", resp_content_type: "application/json",
    resp_status_code: 200, tokens: noTokens(), duration_ms: 10, ttfb_ms: 5, bytes: 100, ...over,
  };
}

describe("ActivityLog", () => {
  test("keeps the newest metricsMaxInMemory rows; ids keep counting", () => {
    const log = new ActivityLog(3);
    for (let i = 0; i < 10; i++) log.add(row());
    expect(log.all().map((e) => e.id)).toEqual([8, 9, 10]);
    expect(log.list(DEFAULT_QUERY)).toMatchObject({ total: 3, page: 1, limit: 25, total_pages: 1 });
  });

  test("the kept rows stay oldest first however far the ring has wrapped", () => {
    const log = new ActivityLog(4);
    for (let n = 1; n <= 11; n++) {
      log.add(row({ duration_ms: n }));
      const kept = Array.from({ length: Math.min(n, 4) }, (_, i) => n - Math.min(n, 4) + 1 + i);
      expect(log.all().map((e) => e.duration_ms)).toEqual(kept);
      expect(log.all().map((e) => e.id)).toEqual(kept);
    }
    expect(log.get(8)?.duration_ms).toBe(8);
    expect(log.get(7)).toBeUndefined();
  });

  test("pages newest first by default; filters by model and status; sorts by a column", () => {
    const log = new ActivityLog(100);
    log.add(row({ model: "a", resp_status_code: 200, duration_ms: 30 }));
    log.add(row({ model: "b", resp_status_code: 502, duration_ms: 10 }));
    log.add(row({ model: "a", resp_status_code: 200, duration_ms: 20 }));
    expect(log.list(DEFAULT_QUERY).data.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(log.list({ ...DEFAULT_QUERY, models: ["a"] }).data.map((e) => e.id)).toEqual([3, 1]);
    expect(log.list({ ...DEFAULT_QUERY, status: "error" }).data.map((e) => e.id)).toEqual([2]);
    expect(log.list({ ...DEFAULT_QUERY, status: "200" }).data.map((e) => e.id)).toEqual([3, 1]);
    expect(log.list({ ...DEFAULT_QUERY, sort: "duration", order: "asc" }).data.map((e) => e.duration_ms)).toEqual([10, 20, 30]);
    expect(log.list({ ...DEFAULT_QUERY, limit: 2, page: 2 })).toMatchObject({ data: [{ id: 1 }], total: 3, total_pages: 2 });
  });

  test("stats: totals and speed histograms, per model", () => {
    const log = new ActivityLog(100);
    log.add(row({ model: "a", tokens: { ...noTokens(), input_tokens: 10, output_tokens: 20, cache_tokens: 3, tokens_per_second: 40, prompt_per_second: 400 } }));
    log.add(row({ model: "a", tokens: { ...noTokens(), input_tokens: 1, output_tokens: 2, tokens_per_second: 60 } }));
    log.add(row({ model: "b", tokens: { ...noTokens(), input_tokens: 100, output_tokens: 200 } }));
    expect(log.stats("a")).toMatchObject({ total_requests: 2, total_input_tokens: 11, total_output_tokens: 22, total_cache_tokens: 3, prompt_histogram: { bins: [1], min: 400, max: 400, binSize: 0 } });
    expect(log.stats("a").gen_histogram).toMatchObject({ min: 40, max: 60, p50: 50 });
    expect(log.stats("")).toMatchObject({ total_requests: 3, total_input_tokens: 111 });
    expect(log.stats("none")).toEqual({ total_requests: 0, total_input_tokens: 0, total_output_tokens: 0, total_cache_tokens: 0, prompt_histogram: null, gen_histogram: null });
  });

  test("histogram bins like llama-swap: 5 to 20 bins, max in the last bin", () => {
    const h = histogram([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!;
    expect(h.bins).toHaveLength(5);
    expect(h.bins.reduce((a, b) => a + b, 0)).toBe(10);
    expect(h).toMatchObject({ min: 1, max: 10, binSize: 1.8, p50: 5.5 });
    expect(histogram([])).toBeNull();
  });
});

describe("CaptureStore", () => {
  const bytes = (n: number) => new Uint8Array(n).fill(65);
  const cap = (id: number, n: number) => ({ id, reqPath: "/p", reqHeaders: {}, reqBody: bytes(n), respHeaders: {}, respBody: bytes(0) });

  // What the budget counts for one of these captures: path "/p", headers `[{},{}]`, body.
  const held = (n: number) => 2 + 7 + n;

  test("drops the oldest captures to stay within the budget; serves bodies as base64", () => {
    const store = new CaptureStore(2 * held(40) + 10);
    expect(store.add(cap(1, 40))).toBe(true);
    expect(store.add(cap(2, 40))).toBe(true);
    expect(store.add(cap(3, 40))).toBe(true);
    expect([store.has(1), store.has(2), store.has(3)]).toEqual([false, true, true]);
    expect(store.bytes).toBe(2 * held(40));
    expect(store.get(3)).toEqual({ id: 3, req_path: "/p", req_headers: {}, req_body: Buffer.from(bytes(40)).toString("base64"), resp_headers: {}, resp_body: "" });
  });

  test("the newest captures are kept, oldest dropped first, each served intact", () => {
    const store = new CaptureStore(2000);
    const body = (id: number, n: number) => new Uint8Array(n).map((_, i) => (id * 31 + i) % 251);
    const sizes = (id: number): [number, number] => [(id * 37) % 300, (id * 53) % 500];
    for (let id = 1; id <= 150; id++) {
      const [req, resp] = sizes(id);
      expect(store.add({ id, reqPath: `/v1/${id}`, reqHeaders: { "x-id": String(id) }, reqBody: body(id, req), respHeaders: {}, respBody: body(-id, resp) })).toBe(true);
      expect(store.bytes).toBeLessThanOrEqual(2000);
      const kept = Array.from({ length: id }, (_, i) => i + 1).filter((k) => store.has(k));
      // The kept ids are the newest ones, with no gap.
      expect(kept.at(-1)).toBe(id);
      expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => id - kept.length + 1 + i));
      for (const k of kept) {
        const [kReq, kResp] = sizes(k);
        expect(store.get(k)).toEqual({
          id: k, req_path: `/v1/${k}`, req_headers: { "x-id": String(k) }, req_body: Buffer.from(body(k, kReq)).toString("base64"),
          resp_headers: {}, resp_body: Buffer.from(body(-k, kResp)).toString("base64"),
        });
      }
    }
    expect(store.get(1)).toBeNull();
  });

  test("captures across many blocks stay intact and newest-kept within the budget", () => {
    const store = new CaptureStore(200_000);
    const body = (id: number) => new Uint8Array(9000 + ((id * 997) % 4000)).map((_, i) => (id + i) % 256);
    for (let id = 1; id <= 60; id++) {
      expect(store.add({ id, reqPath: "/v1/x", reqHeaders: {}, reqBody: body(id), respHeaders: {}, respBody: new Uint8Array(0) })).toBe(true);
      for (const k of [1, Math.max(1, id - 5), id]) if (store.has(k)) expect(store.get(k)!.req_body).toBe(body(k).toBase64());
    }
    expect(store.has(60) && !store.has(1)).toBe(true);
    expect(store.bytes).toBeLessThanOrEqual(200_000);
  });

  test("a kept capture holds no credential and no content-encoding; a view of a larger buffer is copied", () => {
    const store = new CaptureStore(1000);
    const big = new Uint8Array(100).fill(66);
    store.add({
      id: 1, reqPath: "/v1/x", reqHeaders: new Headers({ Authorization: "Bearer k", "Content-Type": "a/b" }), reqBody: big.subarray(10, 14),
      respHeaders: new Headers({ "Content-Encoding": "gzip", "X-Api-Key": "k", "Content-Type": "c/d" }), respBody: new Uint8Array(0),
    });
    big.fill(0);
    expect(store.get(1)).toEqual({
      id: 1, req_path: "/v1/x", req_headers: { authorization: "[REDACTED]", "content-type": "a/b" }, req_body: "QkJCQg==",
      resp_headers: { "x-api-key": "[REDACTED]", "content-type": "c/d" }, resp_body: "",
    });
  });

  test("a capture larger than the whole budget is not kept; budget 0 means off", () => {
    expect(new CaptureStore(held(40) - 1).add(cap(1, 40))).toBe(false);
    expect(new CaptureStore(held(40)).add(cap(1, 40))).toBe(true);
    expect(new CaptureStore(0).enabled).toBe(false);
  });

  test("any budget works: a budget far beyond memory keeps captures, holding only what they need", () => {
    const store = new CaptureStore(2 ** 53);
    expect(store.add(cap(1, 40))).toBe(true);
    expect(store.add(cap(2, 40))).toBe(true);
    expect(store.get(1)!.req_body).toBe(bytes(40).toBase64());
    expect(store.storedBytes).toBeLessThan(1024 * 1024);
  });

  test("captures that look alike are held compressed, many times smaller than the budget counts them", () => {
    const store = new CaptureStore(5 * 1024 * 1024);
    const chat = (id: number) => new TextEncoder().encode(JSON.stringify({ id: `chatcmpl-${id}`, choices: [{ message: { role: "assistant", content: `answer number ${id}: ${"tok ".repeat(40)}` } }], usage: { prompt_tokens: 12, completion_tokens: 40 } }));
    const headers = { "content-type": "application/json", "user-agent": "app/1.0" };
    for (let id = 1; id <= 20_000; id++) store.add({ id, reqPath: "/v1/chat/completions", reqHeaders: headers, reqBody: chat(-id), respHeaders: headers, respBody: chat(id) });
    expect(store.bytes).toBeGreaterThan(4.9 * 1024 * 1024);
    expect(store.bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(store.storedBytes).toBeLessThan(store.bytes / 5);
    // The newest and the oldest kept are served whole; the ones before the oldest are gone.
    const kept = Array.from({ length: 20_000 }, (_, i) => i + 1).filter((id) => store.has(id));
    expect(kept.at(-1)).toBe(20_000);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 20_000 - kept.length + 1 + i));
    for (const id of [kept[0]!, kept[Math.floor(kept.length / 2)]!, 20_000]) {
      expect(store.get(id)).toEqual({ id, req_path: "/v1/chat/completions", req_headers: headers, req_body: chat(-id).toBase64(), resp_headers: headers, resp_body: chat(id).toBase64() });
    }
    expect(store.get(kept[0]! - 1)).toBeNull();
  });

  test("a capture of a block's size or more is kept alone and as it is, in order among the others", () => {
    const store = new CaptureStore(400_000);
    const body = (id: number, n: number) => new Uint8Array(n).map((_, i) => (id * 7 + i) % 256);
    const sizes = (id: number) => (id % 5 === 0 ? BLOCK_BYTES + id : 3000 + id);
    for (let id = 1; id <= 40; id++) {
      expect(store.add({ id, reqPath: "/v1/x", reqHeaders: {}, reqBody: body(id, sizes(id)), respHeaders: {}, respBody: new Uint8Array(0) })).toBe(true);
      expect(store.bytes).toBeLessThanOrEqual(400_000);
    }
    const kept = Array.from({ length: 40 }, (_, i) => i + 1).filter((id) => store.has(id));
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 40 - kept.length + 1 + i));
    for (const id of kept) expect(store.get(id)!.req_body).toBe(body(id, sizes(id)).toBase64());
  });

  test("credentials never reach a capture", () => {
    expect(redactHeaders(new Headers({ Authorization: "Bearer k", "X-Api-Key": "k", "Content-Type": "a/b" }))).toEqual({
      authorization: "[REDACTED]", "x-api-key": "[REDACTED]", "content-type": "a/b",
    });
  });
});
