/**
 * Admin events (unload, shutdown, reload) and the replies they owe: each
 * reply is sent once every model it waits for has stopped.
 */
import type { Config, ModelConfig } from "../../config/types.ts";
import { rejection, type Rejection, type Reply } from "../protocol.ts";
import { hasProcess, newEntry } from "../model-entry.ts";
import { type CoreState, emit, reject, scheduledIds, setState, stop, unloadGrace } from "./state.ts";
import { failSwap } from "./swaps.ts";

/** Releases waiters and stops at once, like llama-swap: in-flight requests see their upstream go. */
export function onUnload(s: CoreState, model: string | null, replyId: number): void {
  const replicas = model === null ? [] : (s.config.models[model]?.replicas ?? []);
  const targets = model === null ? [...s.models.keys()] : s.models.has(model) ? [model] : replicas.filter((r) => s.models.has(r));
  const stopped: string[] = [];
  for (const t of targets) {
    const m = s.models.get(t)!;
    releaseWaiters(s, t, rejection("unloaded", `Cannot serve the request as the model was unloaded: ${t}`));
    m.failures = 0;
    m.retryAt = 0;
    if (m.state === "failed") setState(s, t, "stopped");
    if (hasProcess(m.state)) stopped.push(t);
    stop(s, t, unloadGrace(s, t), "unload", "stopped");
  }
  owe(s, replyId, stopped, { op: "unload", value: stopped });
}

/** Rejects every waiter; stops idle models now and busy ones when done or at the grace deadline. */
export function onShutdown(s: CoreState, graceMs: number, replyId: number): void {
  s.shutdown = { deadline: s.now + graceMs };
  const live: string[] = [];
  for (const id of s.models.keys()) {
    releaseWaiters(s, id, rejection("shutting_down", "Cannot serve the request as modelswap is shutting down"));
  }
  for (const [id, m] of s.models) {
    if (hasProcess(m.state)) live.push(id);
    if (m.state === "starting" || (m.state === "ready" && (m.inFlight === 0 || graceMs <= 0))) {
      stop(s, id, unloadGrace(s, id), "shutdown", "shutdown");
    } else if (m.state === "stopping") {
      m.afterStop = "shutdown";
    } else if (m.state !== "ready") {
      setState(s, id, "shutdown");
    }
  }
  // Forced (graceMs 0, the second signal): no unloadTimeout is waited out, not even by a stop already under way.
  if (graceMs <= 0) for (const id of live) emit(s, { type: "kill", model: id });
  owe(s, replyId, live, { op: "shutdown", value: null });
}

/** Swaps in `config`: stops models whose process changed or that were removed; resets every backoff. */
export function onReload(s: CoreState, config: Config, replyId: number): void {
  const old = s.config;
  s.config = config;
  const stopping: string[] = [];
  for (const [id, m] of s.models) {
    const next = config.models[id]?.replicas.length === 0 ? config.models[id] : undefined;
    m.failures = 0;
    m.retryAt = 0;
    if (m.state === "failed") setState(s, id, "stopped");
    if (next !== undefined && processKey(next) === processKey(old.models[id])) continue;
    if (next === undefined) m.removed = true;
    const code = next === undefined ? "model_not_found" : "unloaded";
    releaseWaiters(s, id, rejection(code, `Cannot serve the request as the model's configuration changed: ${id}`));
    if (hasProcess(m.state)) stopping.push(id);
    const grace = (old.models[id]?.unloadTimeout ?? 0) * 1000;
    stop(s, id, grace, "reload", "stopped");
    if (m.removed && m.state !== "stopping") s.models.delete(id);
  }
  for (const id of scheduledIds(config)) if (!s.models.has(id)) s.models.set(id, newEntry(s.now));
  owe(s, replyId, stopping, { op: "reload", value: null });
}

/** A model stopped (or failed): sends every reply that no longer waits for anything. */
export function settleReplies(s: CoreState, model: string): void {
  for (let i = 0; i < s.replies.length; i++) {
    const r = s.replies[i]!;
    r.waitFor.delete(model);
    if (r.waitFor.size > 0) continue;
    s.replies.splice(i--, 1);
    emit(s, { type: "reply", replyId: r.replyId, reply: r.reply });
  }
}

/** The fields that shape a running process: a reload restarts a model only when these change. */
function processKey(m: ModelConfig | undefined): string {
  return m === undefined ? "" : JSON.stringify([m.cmd, m.cmdStop, m.proxy, m.checkEndpoint, m.port, m.env]);
}

/** Rejects with `r` everyone waiting for `model`: its swap's waiters and its queued requests. */
function releaseWaiters(s: CoreState, model: string, r: Rejection): void {
  failSwap(s, model, r);
  for (const w of s.queue.removeWhere((q) => q.model === model)) reject(s, w, r);
}

/** Replies now if none of `waitFor` is live, else once the last of them stops. */
function owe(s: CoreState, replyId: number, waitFor: string[], reply: Reply): void {
  const pending = new Set(waitFor.filter((id) => hasProcess(s.models.get(id)?.state ?? "stopped")));
  if (pending.size === 0) emit(s, { type: "reply", replyId, reply });
  else s.replies.push({ replyId, waitFor: pending, reply });
}
