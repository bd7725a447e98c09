/**
 * Readiness polling for a model server: many quick GETs instead of
 * llama-swap's one per second, so a ready server is used within tens of ms.
 */
import { delay } from "../lib/async.ts";

export interface HealthPollOptions {
  /** Pause between attempts in ms (default 20). */
  intervalMs?: number;
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

/** One GET; null on status 200, else why not ("status 503", "connection refused: ..."), for the health_failing log line. */
export async function probe(url: string, signal: AbortSignal, attemptTimeoutMs = 1000): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]), redirect: "manual" });
    await res.body?.cancel().catch(() => undefined);
    return res.status === 200 ? null : `status ${res.status}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Resolves once `url` answers 200; rejects with the signal's reason when it aborts.
 *
 * @example
 * ```ts
 * await waitHealthy("http://127.0.0.1:8080/health", AbortSignal.timeout(120_000));
 * ```
 */
export async function waitHealthy(url: string, signal: AbortSignal, options: HealthPollOptions = {}): Promise<void> {
  const { intervalMs = 20, attemptTimeoutMs = 1000, forceFail, onFail } = options;
  for (;;) {
    signal.throwIfAborted();
    const why = forceFail?.() ? "failing on purpose (test hook)" : await probe(url, signal, attemptTimeoutMs);
    if (why === null) return;
    onFail?.(why);
    signal.throwIfAborted();
    await delay(intervalMs, { signal });
  }
}
