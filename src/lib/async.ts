/**
 * The few helpers of JSR's `@std/async` this project needs, with the same
 * names and semantics (`@std/async` itself is published only on JSR).
 */

/** The reason an aborted signal carries, as a DOMException when it has none. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The signal has been aborted", "AbortError");
}

export interface DelayOptions {
  signal?: AbortSignal;
  /** Keep the process alive while waiting (default true). */
  persistent?: boolean;
}

/**
 * Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted.
 *
 * @example
 * ```ts
 * await delay(100, { signal: AbortSignal.timeout(1000) });
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal, persistent = true } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    if (!persistent) (timer as unknown as { unref?: () => void }).unref?.();
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Rejects with a `DOMException` named `TimeoutError` when `p` is not settled within `ms`.
 *
 * @example
 * ```ts
 * const res = await deadline(fetch(url), 5000);
 * ```
 */
export function deadline<T>(p: Promise<T>, ms: number, options: { signal?: AbortSignal } = {}): Promise<T> {
  const signals = [AbortSignal.timeout(ms)];
  if (options.signal) signals.push(options.signal);
  const signal = AbortSignal.any(signals);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(abortReason(signal));
    signal.addEventListener("abort", abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", abort);
        reject(e);
      },
    );
  });
}

export interface RetryOptions {
  /** How much the delay grows after each attempt (default 2). */
  multiplier?: number;
  /** Upper bound of one delay in ms (default 60000). */
  maxTimeout?: number;
  /** Attempts including the first (default 5). */
  maxAttempts?: number;
  /** Delay before the second attempt in ms (default 1000). */
  minTimeout?: number;
  /** Fraction of each delay that is random, 0..1 (default 1). */
  jitter?: number;
  signal?: AbortSignal;
}

/** Thrown by `retry` when every attempt failed; `cause` is the last error. */
export class RetryError extends Error {
  constructor(cause: unknown, attempts: number) {
    super(`Retrying exceeded the maxAttempts (${attempts}).`, { cause });
    this.name = "RetryError";
  }
}

/**
 * The delay before attempt `attempt + 1` (0-based `attempt`), with exponential
 * growth capped at `cap` and `jitter` of it randomised by `random()`.
 */
export function exponentialBackoffWithJitter(
  cap: number,
  base: number,
  attempt: number,
  multiplier: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(cap, base * multiplier ** attempt);
  return Math.round((1 - jitter * random()) * exp);
}

/**
 * Calls `fn` until it resolves, waiting with exponential backoff and jitter between attempts.
 *
 * @example
 * ```ts
 * const res = await retry(() => fetch(url), { maxAttempts: 3, minTimeout: 50 });
 * ```
 */
export async function retry<T>(fn: () => Promise<T> | T, options: RetryOptions = {}): Promise<T> {
  const { multiplier = 2, maxTimeout = 60000, maxAttempts = 5, minTimeout = 1000, jitter = 1, signal } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError(`Cannot retry as 'maxAttempts' must be a positive integer: current value is ${maxAttempts}`);
  }
  if (maxTimeout <= 0) throw new TypeError(`Cannot retry as 'maxTimeout' must be positive: current value is ${maxTimeout}`);
  if (minTimeout > maxTimeout) {
    throw new TypeError(`Cannot retry as 'minTimeout' must be <= 'maxTimeout': current values ${minTimeout} > ${maxTimeout}`);
  }
  if (jitter < 0 || jitter > 1) throw new TypeError(`Cannot retry as 'jitter' must be between 0 and 1: current value is ${jitter}`);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt + 1 >= maxAttempts) throw new RetryError(error, maxAttempts);
      const wait = exponentialBackoffWithJitter(maxTimeout, minTimeout, attempt, multiplier, jitter);
      await delay(wait, signal ? { signal } : {});
    }
  }
}

/**
 * Calls `check` every `intervalMs` until it returns a value other than
 * undefined, or rejects when `signal` aborts.
 *
 * @example
 * ```ts
 * const pid = await poll(() => readPid(), 20, { signal: AbortSignal.timeout(5000) });
 * ```
 */
export async function poll<T>(
  check: () => Promise<T | undefined> | T | undefined,
  intervalMs: number,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  for (;;) {
    options.signal?.throwIfAborted();
    const v = await check();
    if (v !== undefined) return v;
    await delay(intervalMs, options);
  }
}
