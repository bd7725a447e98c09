/**
 * The response body of a proxied stream: a pull-based stream over the
 * upstream body (a slow client slows the upstream) that ends the exchange
 * exactly once, whether the body ends, fails, stalls, the client leaves, or a
 * drain ends it; an SSE stream that cannot finish ends with an error event.
 *
 * One object per stream holds all of this (the stream's source, its drain
 * entry, its stall watchdog). Bug prevented: a dozen closures and their
 * scopes per open stream, some holding the request body and headers for as
 * long as the stream lived.
 */
import { type Clock, RealClock } from "../../lib/clock.ts";
import { HttpError, type HttpErrorCode, sseErrorEvent } from "../errors.ts";
import type { ChunkSource } from "../stream/push-stream.ts";
import type { InflightTracker } from "./inflight.ts";

/**
 * What the proxy tells about an exchange as it happens; `end` comes once, after
 * the last byte, with why it failed (or null). Per chunk it must only count
 * and keep references: it runs on the hot path.
 */
export interface ExchangeObserver {
  response(status: number, headers: Headers): void;
  chunk(c: Uint8Array): void;
  body(b: Uint8Array): void;
  end(error: string | null): void;
}

/** The error a stalled exchange ends with. */
export function stalled(ms: number): HttpError {
  return new HttpError("upstream_stalled", `Cannot finish request: upstream stalled for ${ms / 1000} s`);
}

export interface GuardOptions {
  sse: boolean;
  /** The exchange's controller: aborted when the stream ends early (the reason says why). */
  abort: AbortController;
  /** Runs once when the exchange is over (the lease release). */
  onDone: () => void;
  /** Sees each chunk, then the end once (with why it failed, or null). */
  observer?: ExchangeObserver;
  /** Where a drain finds the stream, to end it. */
  inflight?: InflightTracker;
  /** `watchdog.stallTimeout` in ms; 0: off. */
  stallMs?: number;
  onProgress?: () => void;
  /** The stall watchdog's time (default: real; tests pass a ManualClock so no test waits on a wall-clock margin). */
  clock?: Clock;
}

const REAL_CLOCK = new RealClock();

/** What the source needs of the upstream body's reader. */
type Reader = ChunkSource;

/** Wraps an upstream body so its end, failure or cancellation ends the exchange once. */
export function guardedStream(body: NonNullable<Response["body"]>, o: GuardOptions): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new GuardedSource(body.getReader(), o), { highWaterMark: 0 });
}

/** The stream's source, its drain entry (`end`) and its stall watchdog in one. */
class GuardedSource {
  readonly #reader: Reader;
  readonly #o: GuardOptions;
  #ctrl: ReadableStreamDefaultController<Uint8Array> | null = null;
  #ended = false;
  /** Removes the drain entry; set when registered. */
  #untrack: (() => void) | null = null;
  // The stall watchdog: one sleep per stream, re-armed only when it ends (a chunk just stamps the time).
  readonly #stallMs: number;
  readonly #clock: Clock;
  readonly #unwatch: AbortController | null;
  #lastMove: number;

  constructor(reader: Reader, o: GuardOptions) {
    this.#reader = reader;
    this.#o = o;
    this.#stallMs = o.stallMs ?? 0;
    this.#clock = o.clock ?? REAL_CLOCK;
    this.#unwatch = this.#stallMs > 0 ? new AbortController() : null;
    this.#lastMove = this.#clock.now();
    if (o.inflight) this.#untrack = o.inflight.add(this);
    if (this.#stallMs > 0) this.#watch(this.#stallMs);
  }

  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.#ctrl = c;
  }

  async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.#ended) return;
    try {
      const { done, value } = await this.#reader.read();
      if (this.#ended) return;
      if (done) {
        c.close();
        this.#finish(null);
        return;
      }
      this.#o.observer?.chunk(value);
      c.enqueue(value);
      if (this.#stallMs > 0) this.#lastMove = this.#clock.now();
      this.#o.onProgress?.();
    } catch (err) {
      // Aborted on purpose (a cancel through the API, a drain): say why; else the upstream failed.
      const why = this.#o.abort.signal.reason;
      if (this.#o.abort.signal.aborted && why instanceof HttpError) this.#endWith(why.code, why.message, why);
      else this.#endWith("upstream_error", `Cannot finish response: the upstream stream failed: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }

  cancel(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#unwatch?.abort();
    this.#o.abort.abort(reason);
    this.#reader.cancel(reason).catch(() => {});
    this.#done("the client closed the connection");
  }

  /** The drain entry: ends the response now. */
  end(reason: string): void {
    this.#endWith("shutting_down", reason);
    this.#o.abort.abort(new HttpError("shutting_down", reason));
    this.#reader.cancel().catch(() => {});
  }

  #finish(error: string | null): void {
    this.#ended = true;
    this.#unwatch?.abort();
    this.#done(error);
  }

  #done(error: string | null): void {
    this.#untrack?.();
    this.#o.onDone();
    this.#o.observer?.end(error);
  }

  #endWith(code: HttpErrorCode, message: string, error?: unknown): void {
    if (this.#ended) return;
    try {
      if (this.#o.sse) {
        this.#ctrl?.enqueue(sseErrorEvent(code, message));
        this.#ctrl?.close();
      } else {
        this.#ctrl?.error(error ?? new Error(message));
      }
    } catch {
      // The client side is already gone.
    }
    this.#finish(message);
  }

  #watch(ms: number): void {
    this.#clock.sleep(ms, this.#unwatch!.signal).then(
      () => this.#checkStall(),
      () => {},
    );
  }

  #checkStall(): void {
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
    this.#reader.cancel(e).catch(() => {});
  }
}
