/**
 * `sendLoadingState`: a streamed chat completion for a model that is not
 * ready gets a 200 SSE stream at once, whose `reasoning_content` deltas show
 * the loading progress (llama-swap's format), then the real upstream stream
 * in the same response. A failed load ends the stream with an error event.
 */
import type { Lease } from "../../scheduler/api.ts";
import type { Progress } from "../../scheduler/protocol.ts";
import { sseErrorEvent, toHttpError } from "../errors.ts";
import type { InflightTracker } from "./inflight.ts";
import { once } from "./proxy.ts";

const encoder = new TextEncoder();

/**
 * One SSE chunk whose first choice carries `text` as reasoning content.
 * `index: 0` is more than llama-swap sends, and needed: the OpenAI SDK's
 * `chat.completions.stream()` helper throws on a choice without an index.
 */
export function reasoningChunk(text: string): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { reasoning_content: text } }] })}\n\n`);
}

/** Buffers progress until a listener attaches (why: progress may arrive before we decide to stream it). */
export class ProgressRelay {
  readonly #buffer: Progress[] = [];
  #listener: ((p: Progress) => void) | null = null;
  #resolveFirst: () => void = () => {};
  /** Resolves on the first progress message. */
  readonly first: Promise<void> = new Promise((resolve) => {
    this.#resolveFirst = resolve;
  });

  push = (p: Progress): void => {
    this.#resolveFirst();
    if (this.#listener) this.#listener(p);
    else this.#buffer.push(p);
  };

  listen(fn: (p: Progress) => void): void {
    this.#listener = fn;
    for (const p of this.#buffer.splice(0)) fn(p);
  }

  stop(): void {
    this.#listener = null;
  }
}

export interface LoadingInit {
  model: string;
  relay: ProgressRelay;
  lease: Promise<Lease>;
  /** Opens the upstream request for a granted lease (fetch with the filtered body). */
  forward: (lease: Lease) => Promise<Response>;
  /** Aborts acquire and the upstream fetch; aborted when the client leaves. */
  abort: AbortController;
  inflight?: InflightTracker;
  /** ms between keep-alive dots (llama-swap: 1 s). */
  tickMs?: number;
}

/** Builds the loading-state SSE response (status 200 from the first byte). */
export function loadingStateResponse(init: LoadingInit): Response {
  const started = performance.now();
  const queue: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  let reader: { read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>; cancel(reason?: unknown): Promise<void> } | null = null;
  let lease: Lease | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const push = (chunk: Uint8Array) => {
    queue.push(chunk);
    notify();
  };
  const line = (text: string) => push(reasoningChunk(`${text}\n`));
  let removeInflight = () => {};
  const done = once(() => {
    clearInterval(timer);
    init.relay.stop();
    removeInflight();
    lease?.release();
  });
  const fail = (err: unknown) => {
    const e = toHttpError(err);
    push(sseErrorEvent(e.status, e.code, e.message));
    closed = true;
    notify();
    done();
  };

  line("━━━━━");
  line(`modelswap loading model: ${init.model}`);
  init.relay.listen((p) => line(p.message));
  const timer = setInterval(() => push(reasoningChunk(".")), init.tickMs ?? 1000);
  if (init.inflight) {
    removeInflight = init.inflight.add({
      end(reason) {
        init.abort.abort(new Error(reason));
        fail(new Error(reason));
        void reader?.cancel().catch(() => {});
      },
    });
  }

  void (async () => {
    try {
      lease = await init.lease;
    } catch (err) {
      fail(err);
      return;
    }
    if (closed) {
      lease.release();
      return;
    }
    clearInterval(timer);
    init.relay.stop();
    line(`\nDone! (${((performance.now() - started) / 1000).toFixed(2)}s)`);
    line("━━━━━");
    line(" ");
    let upstream: Response;
    try {
      upstream = await init.forward(lease);
    } catch (err) {
      fail(err);
      return;
    }
    if (upstream.status !== 200 || upstream.body === null) {
      const text = await upstream.text().catch(() => "");
      fail(new Error(`Cannot stream response: upstream answered ${upstream.status}: ${text.slice(0, 500)}`));
      return;
    }
    reader = upstream.body.getReader();
    notify();
  })();

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        for (;;) {
          const next = queue.shift();
          if (next) {
            c.enqueue(next);
            return;
          }
          if (closed) {
            c.close();
            return;
          }
          if (reader) {
            try {
              const r = await reader.read();
              if (r.done) {
                closed = true;
                c.close();
                done();
              } else c.enqueue(r.value);
            } catch (err) {
              if (closed) continue;
              const msg = err instanceof Error ? err.message : String(err);
              fail(new Error(`Cannot finish response: the upstream stream failed: ${msg}`));
              continue;
            }
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
      cancel(reason) {
        closed = true;
        init.abort.abort(reason);
        void reader?.cancel(reason).catch(() => {});
        done();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, {
    status: 200,
    headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" },
  });
}
