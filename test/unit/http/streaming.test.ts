/**
 * Streaming through a real listening modelswap front to a real upstream:
 * chunk timing, release-once, aborts, mid-stream failures, loading state, drain.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { poll } from "../../../src/lib/async.ts";
import { config } from "./config-fixture.ts";
import { blackHole } from "../../helpers/black-hole.ts";
import { type Feed, listen, makeDeps, OPENING, post, servedBy, startUpstream } from "./helpers.ts";

const upstream = startUpstream();
afterAll(() => upstream.stop());

/** A listening front whose models are served at `upstream` + `path`; `autoReady` false: starts wait for the test. */
function start(over: Parameters<typeof config>[0] = { llama: {} }, path = "/stream", autoReady = true) {
  const deps = makeDeps(servedBy(config(over), path.startsWith("http") ? path : `${upstream.url}${path}`), { autoReady });
  const server = listen(deps);
  return { deps, url: server.url, server };
}

/** The part of a stream reader these tests use. */
type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }> };

const signal = () => AbortSignal.timeout(5000);

async function nextFeed(count: number): Promise<Feed> {
  return poll(() => upstream.feeds[count], 2, { signal: signal() });
}

async function readChunk(reader: Reader): Promise<string> {
  const r = await reader.read();
  return r.done || !r.value ? "" : new TextDecoder().decode(r.value);
}

/** Reads until the text so far ends with `suffix` (chunks may coalesce). */
async function readUntil(reader: Reader, suffix: string, seen = ""): Promise<string> {
  while (!seen.endsWith(suffix)) {
    const chunk = await readChunk(reader);
    if (chunk === "") throw new Error(`Stream ended before ${JSON.stringify(suffix)}: got ${JSON.stringify(seen)}`);
    seen += chunk;
  }
  return seen;
}

describe("proxied streams", () => {
  test("chunks reach the client before the upstream finishes, and release runs once at the end", async () => {
    const { deps, url } = start();
    const before = upstream.feeds.length;
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const feed = await nextFeed(before);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    feed.push("data: one\n\n");
    expect(await readUntil(reader, "data: one\n\n")).toBe(`${OPENING}data: one\n\n`);
    expect((await deps.scheduler.status())[0]).toMatchObject({ model: "llama", inFlight: 1 });
    feed.push("data: two\n\n");
    expect(await readUntil(reader, "data: two\n\n")).toBe("data: two\n\n");
    feed.end();
    expect((await reader.read()).done).toBe(true);
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("a client abort aborts the upstream request and releases once", async () => {
    const { deps, url } = start();
    const before = upstream.feeds.length;
    const client = new AbortController();
    const res = await fetch(`${url}/v1/chat/completions`, { ...post({ model: "llama", stream: true }), signal: client.signal });
    const feed = await nextFeed(before);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    feed.push("data: one\n\n");
    await readUntil(reader, "data: one\n\n");
    client.abort();
    await poll(() => feed.abortedAt ?? undefined, 2, { signal: signal() });
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("an upstream that dies mid-SSE ends the client stream with an error event, releasing once", async () => {
    const { deps, url } = start();
    const before = upstream.feeds.length;
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    const feed = await nextFeed(before);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    feed.push("data: one\n\n");
    let text = await readUntil(reader, "data: one\n\n");
    feed.fail();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text.startsWith(`${OPENING}data: one\n\n`)).toBe(true);
    const last = text.trim().split("\n\n").at(-1) ?? "";
    const event = JSON.parse(last.replace(/^event: error\ndata: /, "")) as { error: { code: string; type: string } };
    expect(event.error).toMatchObject({ code: "upstream_error", type: "server_error" });
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("an upstream silent past timeouts.responseHeader is 504 and releases once", async () => {
    const timeouts = { connect: 0, keepalive: 0, responseHeader: 1, tlsHandshake: 0, idleConn: 0 };
    const { deps, url } = start({ llama: { timeouts } }, "/hang");
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_timeout");
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("an upstream that does not accept within timeouts.connect is 502 naming the timeout, and releases once", async () => {
    const hole = await blackHole();
    try {
      const timeouts = { connect: 1, keepalive: 0, responseHeader: 0, tlsHandshake: 0, idleConn: 0 };
      const { deps, url } = start({ llama: { timeouts } }, `http://127.0.0.1:${hole.port}`);
      const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(`Cannot reach upstream http://127.0.0.1:${hole.port}: connect timed out after 1 s (ETIMEDOUT)`);
      expect(await deps.scheduler.released()).toEqual(["llama"]);
    } finally {
      hole.close();
    }
  });

  test("an unreachable upstream is 502 and releases once", async () => {
    const { deps, url } = start({ llama: {} }, "http://127.0.0.1:1");
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    expect(res.status).toBe(502);
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });
});

test("a 1 MiB body streams through /upstream unchanged", async () => {
  const { url } = start({ llama: {} }, "");
  const big = "x".repeat(1024 * 1024);
  const res = await fetch(`${url}/upstream/llama/echo`, { method: "PUT", body: big, headers: { "Content-Type": "text/plain" } });
  expect(res.status).toBe(200);
  const echoed = (await res.json()) as { method: string; path: string; body: string };
  expect(echoed.method).toBe("PUT");
  expect(echoed.path).toBe("/echo");
  expect(echoed.body.length).toBe(big.length);
});

describe("sendLoadingState", () => {
  test("a model that is loading streams progress as reasoning_content, then the real stream", async () => {
    const { deps, url } = start({ llama: { sendLoadingState: true } }, "/stream", false);
    const before = upstream.feeds.length;
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let seen = "";
    while (!seen.includes("Starting llama")) seen += await readChunk(reader);
    const first = JSON.parse(seen.split("\n\n")[0]?.replace(/^data: /, "") ?? "");
    expect(first).toEqual({ choices: [{ index: 0, delta: { reasoning_content: "━━━━━\n" } }] });
    expect(seen).toContain("modelswap loading model: llama");
    deps.scheduler.process("llama").ready();
    const feed = await nextFeed(before);
    feed.push("data: real\n\n");
    feed.end();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      seen += new TextDecoder().decode(r.value);
    }
    expect(seen).toContain("Done! (");
    expect(seen.endsWith(`${OPENING}data: real\n\n`)).toBe(true);
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("a load failure ends the stream with an error event", async () => {
    const { deps, url } = start({ llama: { sendLoadingState: true } }, "", false);
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    expect(res.status).toBe(200);
    await deps.scheduler.reach("llama", "starting");
    deps.scheduler.process("llama").failStart("exited with code 1");
    const text = await res.text();
    const last = JSON.parse(text.trim().split("\n\n").at(-1)?.replace(/^event: error\ndata: /, "") ?? "");
    expect(last).toEqual({ type: "error", error: { message: "Cannot start model 'llama': exited with code 1", type: "server_error", code: "start_failed" } });
    expect(deps.scheduler.releases).toEqual([]);
  });

  test("a ready model gets the plain upstream stream", async () => {
    const { deps, url } = start({ llama: { sendLoadingState: true } });
    await deps.scheduler.ready("llama");
    const before = upstream.feeds.length;
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    const feed = await nextFeed(before);
    feed.push("data: x\n\n");
    feed.end();
    expect(await res.text()).toBe(`${OPENING}data: x\n\n`);
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });
});

describe("drain", () => {
  test("ends a request still waiting for its model with 503", async () => {
    const { deps, url, server } = start({ llama: {} }, "", false);
    const res = fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    await deps.scheduler.reach("llama", "starting");
    await server.drain(20);
    const r = await res;
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
  });

  test("waits for streams that finish within the grace period", async () => {
    const { url, server } = start();
    const before = upstream.feeds.length;
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    const feed = await nextFeed(before);
    const drained = server.drain(5000);
    feed.push("data: last\n\n");
    feed.end();
    expect(await res.text()).toBe(`${OPENING}data: last\n\n`);
    await drained;
  });

  test("ends streams still open after the grace period with an SSE error event", async () => {
    const { deps, url, server } = start();
    const before = upstream.feeds.length;
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama", stream: true }));
    const feed = await nextFeed(before);
    feed.push("data: one\n\n");
    const drained = server.drain(50);
    const text = await res.text();
    await drained;
    expect(text.startsWith(`${OPENING}data: one\n\n`)).toBe(true);
    expect(text).toContain('"code":"shutting_down"');
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });
});
