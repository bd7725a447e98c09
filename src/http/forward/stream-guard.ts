/**
 * What watches a streamed answer on its way to the client: its end, failure
 * or cancellation runs `done` once (the lease release), each chunk is seen by
 * the activity record and the busy watchdog, the stall watchdog cuts a body
 * on which no byte moved for `stallMs`, and a drain can end it.
 *
 * `StreamGuard` is that logic, fed by whichever stream carries the bytes: the
 * pooled client's own body stream (one stream, no copy: `http1Fetch`'s
 * `watchBody`), or `guardedStream`, a second stream over any other body
 * (Bun's fetch).
 */
import { type Clock, RealClock } from "../../lib/clock.ts";
import type { BodyControl, BodyWatcher } from "../../lib/http1/client.ts";
import { HttpError, type HttpErrorCode, sseErrorEvent } from "../errors.ts";

/** What sees the answer go by (the activity record); per chunk it must only count and keep references. */
export interface ChunkObserver {
  chunk(c: Uint8Array): void;
}

export interface GuardOptions {
  /** An event stream: a failure ends it with an SSE error event instead of a cut. */
  sse: boolean;
  abort: AbortController;
  /** Runs once, with why the stream failed (or null when it ended normally). */
  done: (error: string | null) => void;
  observer?: ChunkObserver;
  register: (entry: { end(reason: string): void }) => void;
  /** 0: off. See `ProxyInit.stallMs`. */
  stallMs?: number;
  onProgress?: () => void;
  /** The stall watchdog's time (default: real; tests pass a ManualClock so no test waits on a wall-clock margin). */
  clock?: Clock;
}

/** The error a stalled exchange ends with. */
export function stalled(ms: number): HttpError {
  return new HttpError("upstream_stalled", `Cannot finish request: upstream stalled for ${ms / 1000} s`);
}

const REAL_CLOCK = new RealClock();

/** The guard of one streamed body; `out` ends the stream that carries it. */
export class StreamGuard implements BodyWatcher {
  readonly #o: GuardOptions;
  readonly #out: BodyControl;
  #ended = false;
  readonly #stallMs: number;
  readonly #clock: Clock;
  /** Ends the stall watchdog's sleep: one sleep per stream, re-armed only when it ends (a chunk just stamps the time). */
  readonly #unwatch: AbortController | null;
  #lastMove: number;

  constructor(o: GuardOptions, out: BodyControl) {
    this.#o = o;
    this.#out = out;
    this.#stallMs = o.stallMs ?? 0;
    this.#clock = o.clock ?? REAL_CLOCK;
    this.#unwatch = this.#stallMs > 0 ? new AbortController() : null;
    this.#lastMove = this.#clock.now();
    if (this.#stallMs > 0) this.#watch(this.#stallMs);
    o.register({
      end: (reason: string) => {
        this.#endWith("shutting_down", reason);
        o.abort.abort(new Error(reason));
        out.cancelSource(undefined);
      },
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  chunk(c: Uint8Array): void {
    this.#o.observer?.chunk(c);
    if (this.#stallMs > 0) this.#lastMove = this.#clock.now();
    this.#o.onProgress?.();
  }

  taken(): void {
    if (this.#stallMs > 0) this.#lastMove = this.#clock.now();
  }

  finished(): void {
    if (!this.#ended) this.#finish(null);
  }

  broke(error: unknown): void {
    const msg = error instanceof Error ? error.message : String(error);
    this.#endWith("upstream_error", `Cannot finish response: the upstream stream failed: ${msg}`, error);
  }

  cancelled(reason: unknown): void {
    if (this.#ended) return;
    // Ended before the abort below: its echo (a failed read) must not end the stream a second way.
    this.#ended = true;
    this.#unwatch?.abort();
    this.#o.abort.abort(reason);
    this.#out.cancelSource(reason);
    this.#o.done("the client closed the connection");
  }

  #finish(error: string | null): void {
    this.#ended = true;
    this.#unwatch?.abort();
    this.#o.done(error);
  }

  #watch(ms: number): void {
    this.#clock.sleep(ms, this.#unwatch!.signal).then(this.#checkStall, () => {});
  }

  readonly #checkStall = (): void => {
    if (this.#ended) return;
    const idle = this.#clock.now() - this.#lastMove;
    if (idle < this.#stallMs) {
      this.#watch(this.#stallMs - idle);
      return;
    }
    // Neither the upstream sent nor the client took a byte for stallMs (a hung server, or a client gone silent).
    const e = stalled(this.#stallMs);
    this.#endWith(e.code, e.message, e);
    this.#o.abort.abort(e);
    this.#out.cancelSource(e);
  };

  #endWith(code: HttpErrorCode, message: string, error?: unknown): void {
    if (this.#ended) return;
    try {
      if (this.#o.sse) this.#out.end(sseErrorEvent(code, message));
      else this.#out.end(null, error ?? new Error(message));
    } catch {
      // The client side is already gone.
    }
    this.#finish(message);
  }
}

/** Wraps any upstream body in a second stream watched by a `StreamGuard`: pulled only as the client reads. */
export function guardedStream(body: ReadableStream<Uint8Array>, o: GuardOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ctrl: ReadableStreamDefaultController<Uint8Array> | null = null;
  const guard = new StreamGuard(o, {
    end(last, error) {
      if (error !== undefined) {
        ctrl?.error(error);
        return;
      }
      if (last !== null) ctrl?.enqueue(last);
      ctrl?.close();
    },
    cancelSource(reason) {
      reader.cancel(reason).catch(() => {});
    },
  });
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        ctrl = c;
      },
      async pull(c) {
        if (guard.ended) return;
        try {
          const { done, value } = await reader.read();
          if (guard.ended) return;
          if (done) {
            c.close();
            guard.finished();
            return;
          }
          c.enqueue(value);
          guard.chunk(value);
        } catch (err) {
          guard.broke(err);
        }
      },
      cancel(reason) {
        guard.cancelled(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
