/**
 * The stall watchdog inside the guarded response stream (src/http/forward/proxy.ts):
 * no byte moved for stallMs, from the upstream or to the client, ends the
 * exchange exactly once; bytes that keep moving never do.
 */
import { describe, expect, test } from "bun:test";
import { poll } from "../../../src/lib/async.ts";
import { ManualClock } from "../../../src/lib/clock.ts";
import { guardedStream } from "../../../src/http/forward/proxy.ts";

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
