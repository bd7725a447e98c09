/**
 * What the runner reports about processes (started, start failed, stopped,
 * exited) and the restart backoff they feed. Stale outcomes (for a model not
 * in the state they imply) are ignored.
 */
import { rejection } from "../protocol.ts";
import { BACKOFF } from "../core-types.ts";
import { countFailure, leaveReady, resetIfHealthy } from "../model-entry.ts";
import { type CoreState, setState, stop, unloadGrace } from "./state.ts";
import { failSwap, finishSwap, retryAfterOom } from "./swaps.ts";
import { isOutOfMemory } from "../policies/index.ts";
import { settleReplies } from "./admin.ts";

/** The process turned healthy: its swap's waiters are granted. */
export function onStarted(s: CoreState, model: string): void {
  const m = s.models.get(model);
  if (m === undefined || m.state !== "starting") return;
  m.readyAt = s.now;
  m.idleSince = s.now;
  m.lastError = null;
  m.oomRetried = false;
  setState(s, model, "ready");
  const swap = s.active.get(model);
  if (swap !== undefined) finishSwap(s, swap);
  if (s.shutdown !== null && m.inFlight === 0) stop(s, model, unloadGrace(s, model), "shutdown", "shutdown");
}

/**
 * The start failed: one more failure toward the backoff, and the waiters get
 * `start_failed`; unless its output says out of memory and this start has not
 * retried yet: then one more idle model is evicted and it starts again, uncounted.
 */
export function onStartFailed(s: CoreState, model: string, message: string): void {
  const m = s.models.get(model);
  if (m === undefined || m.state !== "starting") return;
  if (!m.oomRetried && s.shutdown === null && isOutOfMemory(message) && retryAfterOom(s, model, message)) return;
  m.oomRetried = false;
  countFailure(m, s.now, s.random);
  m.lastError = message;
  setState(s, model, s.shutdown !== null ? "shutdown" : "failed", message);
  // The supervisor's messages already name the model ("Cannot start model 'm': ..."): never say it twice.
  const text = message.startsWith("Cannot start model") ? message : `Cannot start model '${model}': ${message}`;
  failSwap(s, model, rejection("start_failed", text));
  settleReplies(s, model);
}

/** A stop the core asked for completed: the model enters the state chosen when it was issued. */
export function onStopped(s: CoreState, model: string): void {
  const m = s.models.get(model);
  if (m === undefined) return;
  if (m.state !== "stopping") return;
  setState(s, model, m.afterStop);
  settleReplies(s, model);
  if (m.removed) s.models.delete(model);
}

/** The process exited on its own: a failed start, or a crash while ready (design.md "Crash while ready"). */
export function onExited(s: CoreState, model: string, message: string): void {
  const m = s.models.get(model);
  if (m === undefined) return;
  if (m.state === "starting") return onStartFailed(s, model, message);
  if (m.state !== "ready") return;
  leaveReady(m, s.now);
  m.lastError = message;
  if (s.shutdown !== null) setState(s, model, "shutdown", message);
  else if (m.lastHealthyMs >= BACKOFF.healthyResetMs) {
    // Served for a healthy period: forget earlier failures and restart on demand.
    resetIfHealthy(m);
    setState(s, model, "stopped", message);
  } else {
    // Died soon after turning ready: a failure like a failed start, or it would crash-loop.
    countFailure(m, s.now, s.random);
    setState(s, model, "failed", message);
  }
  settleReplies(s, model);
}
