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

const encoder = new TextEncoder();

/**
 * A byte stream that sends each string of `chunks` in turn, `intervalMs`
 * apart; pull-based, so a slow reader slows it down.
 *
 * @example
 * ```ts
 * new Response(paced(["data: 1\n\n", "data: [DONE]\n\n"], { intervalMs: 10, crashAfter: null, crash() {} }));
 * ```
 */
export function paced(chunks: ReadonlyArray<string | (() => string)>, options: PacedOptions): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (options.crashAfter !== null && i >= options.crashAfter) {
        // The previous chunk has been taken by the writer; give it a moment to reach the socket.
        setTimeout(options.crash, 20);
        return new Promise<void>(() => {});
      }
      if (i >= chunks.length) {
        controller.close();
        return;
      }
      if (i > 0 && options.intervalMs > 0) await Bun.sleep(options.intervalMs);
      const c = chunks[i++]!;
      controller.enqueue(encoder.encode(typeof c === "function" ? c() : c));
    },
  });
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
