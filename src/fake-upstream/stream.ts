/**
 * Paced event streams: one chunk every interval, so tests can tell a proxy
 * that streams from one that buffers, and a crash switch for mid-stream failures.
 */

export interface PacedOptions {
  intervalMs: number;
  /** After this many chunks, call `crash` instead of sending more (null: never). */
  crashAfter: number | null;
  crash: () => void;
}

/**
 * The frames of one answer, made when sent: `at(i)` builds frame `i`.
 * Why: a 1,000-token stream built up front held ~3,000 objects and 1,000
 * closures per open stream (300 KB; 3.6 GB at 10,000 open streams).
 */
export interface Frames {
  readonly length: number;
  at(i: number): string;
}

/**
 * Frames `head`, then one per token (`token(i)` for i in 0..count-1), then
 * `tail`; each built only when it is sent.
 *
 * @example
 * ```ts
 * framesOf([() => "data: start\n\n"], 3, (i) => `data: ${i}\n\n`, [() => "data: [DONE]\n\n"]).at(1); // "data: 0\n\n"
 * ```
 */
export function framesOf(head: ReadonlyArray<() => string>, count: number, token: (i: number) => string, tail: ReadonlyArray<() => string>): Frames {
  return {
    length: head.length + count + tail.length,
    at(i) {
      if (i < head.length) return head[i]!();
      if (i < head.length + count) return token(i - head.length);
      return tail[i - head.length - count]!();
    },
  };
}

/**
 * A byte stream that sends each frame in turn, `intervalMs`
 * apart. A Bun direct stream: each write waits while the reader's socket is
 * full (backpressure), and a crash waits until the bytes before it were
 * written to the socket.
 *
 * @example
 * ```ts
 * new Response(paced(["data: 1\n\n", "data: [DONE]\n\n"], { intervalMs: 10, crashAfter: null, crash() {} }));
 * ```
 */
export function paced(chunks: ReadonlyArray<string> | Frames, options: PacedOptions): ReadableStream<Uint8Array> {
  const frame = Array.isArray(chunks) ? (i: number) => (chunks as ReadonlyArray<string>)[i]! : (i: number) => (chunks as Frames).at(i);
  let cancelled = false;
  return new ReadableStream({
    type: "direct",
    async pull(controller) {
      for (let i = 0; i < chunks.length && !cancelled; i++) {
        if (i > 0 && options.intervalMs > 0) await Bun.sleep(options.intervalMs);
        await controller.write(frame(i));
        if (i + 1 === options.crashAfter) {
          // Crash once Bun has written the bytes so far to the socket (`flush(true)` resolves then, measured on
          // Bun 1.4.5), not after a timer. What a reader makes of them is its own business: Bun's fetch drops
          // body bytes it has received but not yet handed out when the connection dies, so a test that must
          // see them reads them first and only then makes the fake crash (`--exit-after-requests 2`).
          await controller.flush(true);
          options.crash();
          return new Promise<void>(() => {});
        }
      }
      controller.close();
    },
    cancel() {
      cancelled = true;
    },
  }) as ReadableStream<Uint8Array>;
}

/** One OpenAI-style SSE frame. */
export function sseData(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** One Anthropic-style SSE frame (named event). */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Headers of an SSE response. */
export const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" } as const;
