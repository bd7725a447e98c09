/**
 * Readiness polling for a model server: quick GETs while a start is young,
 * fewer as it goes on, and one at once whenever the server prints a line
 * (llama-server prints "server is listening" and "all slots are idle" as it
 * turns ready), so a ready server is used within a few ms without a load of
 * minutes costing tens of thousands of requests.
 */
import { type Clock, RealClock } from "../lib/clock.ts";
import { closeIdleConnections, ConnectionReset, http1Fetch, POOLED_CLIENT } from "../lib/http1/client.ts";

/** The fastest pause between attempts, in ms. */
export const HEALTH_MIN_INTERVAL_MS = 2;
/** The slowest pause between attempts, in ms (the longest a silent server's readiness goes unseen). */
export const HEALTH_MAX_INTERVAL_MS = 100;
/** The pause grows with the start's age: this fraction of the time waited so far. */
const HEALTH_BACKOFF = 1 / 50;

/**
 * Pause before the next attempt, `elapsedMs` into a start: 2 ms for the first
 * 100 ms, then 2% of the time waited (20 ms at 1 s), at most 100 ms from 5 s
 * on. A silent server's readiness is seen within 2% of its load time (a
 * server that prints a line is probed at once); a 60 s load costs ~800
 * attempts instead of 30,000 at a fixed 2 ms.
 *
 * @example
 * ```ts
 * healthInterval(50); // 2
 * healthInterval(1000); // 20
 * healthInterval(60_000); // 100
 * ```
 */
export function healthInterval(elapsedMs: number): number {
  return Math.min(HEALTH_MAX_INTERVAL_MS, Math.max(HEALTH_MIN_INTERVAL_MS, elapsedMs * HEALTH_BACKOFF));
}

/**
 * A wake-up call for the poller: `nudge()` ends its current pause at once,
 * or, when it is busy with an attempt, makes it try again right after.
 * Cheap enough to call on every output line.
 */
export class Nudge {
  #wake: (() => void) | null = null;
  #pending = false;

  nudge(): void {
    const wake = this.#wake;
    if (wake === null) {
      this.#pending = true;
      return;
    }
    this.#wake = null;
    wake();
  }

  /** True (and cleared) when a nudge came since the last pause. */
  take(): boolean {
    const p = this.#pending;
    this.#pending = false;
    return p;
  }

  /** Resolves at the next nudge (one waiter at a time; a new wait replaces the old). */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Forgets the waiter (the pause ended another way). */
  cancel(): void {
    this.#wake = null;
  }
}

export interface HealthPollOptions {
  /** Pause before the next attempt, by how long the poll has waited so far (default `healthInterval`). */
  interval?: (elapsedMs: number) => number;
  /** The clock pauses are slept on (default real; tests pass a ManualClock). */
  clock?: Clock;
  /** Ends a pause early (the server printed a line). */
  nudge?: Nudge;
  /** One attempt: null when healthy, else why not (default: `probe` of the URL). */
  check?: (signal: AbortSignal) => Promise<string | null>;
  /** Limit of one attempt in ms (default 1000). */
  attemptTimeoutMs?: number;
  /** When it returns true, an attempt counts as failing without a request (test hook). */
  forceFail?: () => boolean;
  /** Called with why each failing attempt failed. */
  onFail?: (why: string) => void;
}

/** One GET; true on status 200. Connection refused, timeouts and other statuses are "not yet". */
export async function checkOnce(url: string, signal: AbortSignal, attemptTimeoutMs = 1000): Promise<boolean> {
  return (await probe(url, signal, attemptTimeoutMs)) === null;
}

/**
 * One GET; null on status 200, else why not ("status 503", "connection
 * refused: ..."), for the health_failing log line. An http:// URL goes
 * through the pooled HTTP/1.1 client, on this thread's own event loop and on
 * one kept-alive connection; Bun's fetch answered on its HTTP thread and
 * handed the answer across (measured, 2 × 14 alternating cold starts: the
 * waiting request reached the server 0.6-0.7 ms sooner, median). Redirects
 * are not followed with either.
 */
export async function probe(url: string, signal: AbortSignal, attemptTimeoutMs = 1000): Promise<string | null> {
  try {
    const s = AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]);
    const res = viaPool(url) ? await pooledGet(new URL(url), s) : await fetch(url, { signal: s, redirect: "manual" });
    await res.body?.cancel().catch(() => undefined);
    return res.status === 200 ? null : `status ${res.status}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Whether checks of `url` go through the pooled client (http://, unless `MODELSWAP_UPSTREAM_CLIENT=fetch`). */
function viaPool(url: string): boolean {
  return POOLED_CLIENT && url.startsWith("http:") && URL.canParse(url);
}

/**
 * A GET over the pooled client, sent once more on a fresh connection when the
 * kept-alive one turns out closed before any answer (the server closed it as
 * the check went out), so that race is not a failed attempt that waits out a
 * pause. A GET may be sent twice.
 */
async function pooledGet(url: URL, signal: AbortSignal): Promise<Response> {
  const get = () => http1Fetch(url, { method: "GET", headers: new Headers(), body: null, signal });
  try {
    return await get();
  } catch (err) {
    if (err instanceof ConnectionReset && !signal.aborted) return await get();
    throw err;
  }
}

const REAL_CLOCK = new RealClock();

/**
 * Resolves once `url` answers 200; rejects with the signal's reason when it aborts.
 *
 * @example
 * ```ts
 * const nudge = new Nudge(); // call nudge.nudge() on every line the server prints
 * await waitHealthy("http://127.0.0.1:8080/health", AbortSignal.timeout(120_000), { nudge });
 * ```
 */
export async function waitHealthy(url: string, signal: AbortSignal, options: HealthPollOptions = {}): Promise<void> {
  const { interval = healthInterval, clock = REAL_CLOCK, nudge, attemptTimeoutMs = 1000, forceFail, onFail } = options;
  const check = options.check ?? ((s: AbortSignal) => probe(url, s, attemptTimeoutMs));
  const started = clock.now();
  try {
    for (;;) {
      signal.throwIfAborted();
      nudge?.take();
      const why = forceFail?.() ? "failing on purpose (test hook)" : await check(signal);
      if (why === null) return;
      onFail?.(why);
      signal.throwIfAborted();
      // A line printed while that attempt ran: the server may have just turned ready, try again now.
      if (nudge?.take()) continue;
      await pause(clock, interval(clock.now() - started), signal, nudge);
    }
  } finally {
    // The checks' kept-alive connection is not needed any more. Closed after this task (the grant that
    // follows a pass goes first), so a server that serves one connection at a time is free for the proxy.
    if (options.check === undefined && viaPool(url)) {
      const origin = new URL(url).host;
      setTimeout(() => closeIdleConnections(origin), 0);
    }
  }
}

/** Sleeps `ms` on `clock`, or less when nudged; rejects with the signal's reason. */
async function pause(clock: Clock, ms: number, signal: AbortSignal, nudge: Nudge | undefined): Promise<void> {
  if (nudge === undefined) return clock.sleep(ms, signal);
  const stop = new AbortController();
  const done = AbortSignal.any([signal, stop.signal]);
  try {
    await Promise.race([clock.sleep(ms, done), nudge.next()]);
  } finally {
    nudge.cancel();
    stop.abort();
  }
  signal.throwIfAborted();
}
