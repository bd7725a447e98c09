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
}

/** One GET; true on status 200. Connection refused, timeouts and other statuses are "not yet". */
export async function checkOnce(url: string, signal: AbortSignal, attemptTimeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]), redirect: "manual" });
    await res.body?.cancel().catch(() => undefined);
    return res.status === 200;
  } catch {
    return false;
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
  const { intervalMs = 20, attemptTimeoutMs = 1000, forceFail } = options;
  for (;;) {
    signal.throwIfAborted();
    if (!forceFail?.() && (await checkOnce(url, signal, attemptTimeoutMs))) return;
    signal.throwIfAborted();
    await delay(intervalMs, { signal });
  }
}
