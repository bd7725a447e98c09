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
