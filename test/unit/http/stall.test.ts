/**
 * The stall watchdog of a streamed answer (src/http/forward/stream-guard.ts):
 * no byte moved for stallMs, from the upstream or to the client, ends the
 * exchange exactly once; bytes that keep moving never do. Both carriers:
 * the guarded second stream (over fetch's body) and the pooled client's own
 * body stream (a real socket).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { poll } from "../../../src/lib/async.ts";
import { ManualClock } from "../../../src/lib/clock.ts";
import { guardedStream, StreamGuard } from "../../../src/http/forward/stream-guard.ts";
import { closeIdleConnections, http1Fetch } from "../../../src/lib/http1/client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An upstream body that sends `chunk` whenever it is pulled, forever (or until cancelled). */
function endless(chunk: string): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(encoder.encode(chunk));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { body, cancelled: () => cancelled };
}

/** An upstream body that sends `first`, then nothing ever again. */
function hangsAfter(first: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return new Promise(() => {});
      sent = true;
      c.enqueue(encoder.encode(first));
    },
  });
}

/** A guarded stream on a manual clock: time moves only by `clock.advance` (no wall-clock margin). */
function guard(body: ReadableStream<Uint8Array>, sse: boolean, stallMs: number) {
  const abort = new AbortController();
  const clock = new ManualClock();
  let done = 0;
  let progress = 0;
  const stream = guardedStream(body, { sse, abort, done: () => done++, register: () => {}, stallMs, onProgress: () => progress++, clock });
  return { stream, abort, clock, done: () => done, progress: () => progress };
}

const until = (fn: () => boolean) => poll(() => fn() || undefined, 5, { signal: AbortSignal.timeout(5000) });

describe("the stall watchdog in the guarded stream", () => {
  test("an SSE upstream that goes silent ends with the error event, once, and its slot is released", async () => {
    const g = guard(hangsAfter("data: {}\n\n"), true, 50);
    const body = new Response(g.stream).arrayBuffer();
    await until(() => g.progress() === 1);
    g.clock.advance(49);
    expect(g.done()).toBe(0);
    g.clock.advance(1);
    const text = decoder.decode(await body);
    expect(text).toContain("data: {}\n\n");
    expect(text).toContain('"code":"upstream_stalled"');
    expect(text).toContain("upstream stalled for 0.05 s");
    expect(g.done()).toBe(1);
    expect(g.abort.signal.aborted).toBe(true);
  });

  test("a client that stops reading is released too: no byte moved to it for stallMs", async () => {
    const up = endless("data: x\n\n");
    const g = guard(up.body, true, 50);
    const reader = g.stream.getReader();
    await reader.read(); // one chunk, then the client goes silent with the socket open
    g.clock.advance(50);
    await until(() => g.done() === 1);
    expect(up.cancelled()).toBe(true);
    expect(g.abort.signal.aborted).toBe(true);
  });

  test("bytes that keep moving are never cut, and each chunk is reported as progress", async () => {
    const up = endless("data: x\n\n");
    const g = guard(up.body, true, 50);
    const reader = g.stream.getReader();
    for (let i = 0; i < 20; i++) {
      await reader.read();
      g.clock.advance(40); // 800 ms in all, never 50 without a byte
    }
    expect(g.done()).toBe(0);
    expect(g.progress()).toBe(20);
    await reader.cancel();
    expect(g.done()).toBe(1);
  });

  test("a non-SSE stream that goes silent is errored (the client sees the cut)", async () => {
    const g = guard(hangsAfter("partial"), false, 50);
    const text = new Response(g.stream).text();
    await until(() => g.progress() === 1);
    g.clock.advance(50);
    await expect(text).rejects.toThrow("upstream stalled");
    expect(g.done()).toBe(1);
  });
});

/** A raw upstream that answers with an event stream's head and `first` chunk, then sends what `then` is called with. */
function rawSse(first: string) {
  const closed: unknown[] = [];
  let socket: { write(s: string): void; end(): void } | null = null;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s) {
        socket = s;
        s.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${first.length.toString(16)}\r\n${first}\r\n`);
      },
      close(s) {
        closed.push(s);
      },
    },
  });
  return { url: `http://127.0.0.1:${server.port}/x`, closed, cut: () => socket?.end(), stop: () => server.stop(true) };
}

let upstream: ReturnType<typeof rawSse> | null = null;
afterEach(() => {
  upstream?.stop();
  upstream = null;
  closeIdleConnections();
});

/** The pooled client with the guard inside its body stream, on a manual clock. */
async function pooledGuard(url: string, stallMs: number) {
  const abort = new AbortController();
  const clock = new ManualClock();
  const done: Array<string | null> = [];
  let progress = 0;
  const res = await http1Fetch(new URL(url), {
    method: "GET",
    headers: new Headers(),
    body: null,
    signal: abort.signal,
    watchBody: (_status, _headers, out) =>
      new StreamGuard({ sse: true, abort, done: (e) => void done.push(e), register: () => {}, stallMs, onProgress: () => progress++, clock }, out),
  });
  return { res, abort, clock, done, progress: () => progress };
}

describe("the guard inside the pooled client's body stream", () => {
  test("an SSE upstream that goes silent ends with the error event, once; the connection is closed", async () => {
    upstream = rawSse("data: {}\n\n");
    const g = await pooledGuard(upstream.url, 50);
    const reader = g.res.body!.getReader();
    // The reader takes the first chunk at time 0 (a reader taking bytes is a move too).
    expect(decoder.decode((await reader.read()).value)).toBe("data: {}\n\n");
    const rest = (async () => {
      let t = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) t += decoder.decode(r.value);
      return t;
    })();
    g.clock.advance(49);
    expect(g.done).toEqual([]);
    g.clock.advance(1);
    const text = await rest;
    expect(text.startsWith("event: error\n")).toBe(true);
    expect(text).toContain('"code":"upstream_stalled"');
    expect(g.done).toEqual(["Cannot finish request: upstream stalled for 0.05 s"]);
    expect(g.abort.signal.aborted).toBe(true);
    await until(() => upstream!.closed.length === 1);
  });

  test("an upstream cut mid-stream: the chunks it sent, then the SSE error event; done once with why", async () => {
    upstream = rawSse("data: 1\n\n");
    const g = await pooledGuard(upstream.url, 0);
    await until(() => g.progress() === 1);
    upstream.cut();
    const text = await g.res.text();
    expect(text.startsWith("data: 1\n\n")).toBe(true);
    expect(text).toContain('"code":"upstream_error"');
    expect(g.done.length).toBe(1);
    expect(g.done[0]).toContain("Cannot finish response: the upstream stream failed");
  });

  test("a client that cancels ends the exchange once, as the client's doing", async () => {
    upstream = rawSse("data: 1\n\n");
    const g = await pooledGuard(upstream.url, 50);
    const reader = g.res.body!.getReader();
    await reader.read();
    await reader.cancel(new Error("client left"));
    expect(g.done).toEqual(["the client closed the connection"]);
    expect(g.abort.signal.aborted).toBe(true);
    g.clock.advance(100);
    expect(g.done.length).toBe(1);
    await until(() => upstream!.closed.length === 1);
  });
});
