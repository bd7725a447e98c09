/**
 * The vocabulary of the pure scheduler core: the events it consumes and the
 * effects it produces. Plain data, so the runner can record and replay them.
 */
import type { Config } from "../config/types.ts";
import type { ModelState, Progress, Rejection, Reply, Select } from "./protocol.ts";

export type { Select };

/** Why a process is being stopped (logged and shown as state detail). */
export type StopReason = "swap" | "unload" | "ttl" | "health_timeout" | "shutdown" | "reload" | "watchdog" | "oom_retry";

/** Everything that can happen to the scheduler; `now` is the core's only clock. */
export type CoreEvent =
  /** `keepAliveMs`: this request's keep_alive (ms; negative keeps the model loaded), overriding the model's ttl. */
  | { type: "request"; now: number; id: number; model: string; noStart: boolean; wantProgress: boolean; keepAliveMs?: number; select?: Select }
  /** Models that moved bytes to a client since the last report (the busy watchdog's evidence of progress). */
  | { type: "activity"; now: number; models: string[] }
  | { type: "cancel"; now: number; id: number }
  | { type: "release"; now: number; id: number }
  | { type: "started"; now: number; model: string }
  | { type: "startFailed"; now: number; model: string; message: string }
  /** `unkillable`: a process of the group was still there 5 s after SIGKILL (the stop went on without it). */
  | { type: "stopped"; now: number; model: string; unkillable?: string }
  | { type: "exited"; now: number; model: string; message: string }
  | { type: "unload"; now: number; model: string | null; replyId: number }
  | { type: "tick"; now: number }
  | { type: "shutdown"; now: number; graceMs: number; replyId: number }
  | { type: "reload"; now: number; config: Config; replyId: number };

/** What the runner must do; executed in order. */
export type Effect =
  | { type: "grant"; id: number; model: string }
  /** A selector chose a peer target: nothing is held, the caller forwards there. */
  | { type: "route"; id: number; target: string }
  | { type: "reject"; id: number; model: string; rejection: Rejection }
  | { type: "start"; model: string }
  /** `for`: the model a `swap` stop makes room for. */
  | { type: "stop"; model: string; graceMs: number; reason: StopReason; for?: string }
  /** SIGKILL the model's process group now, whatever stop is under way (a forced shutdown). */
  | { type: "kill"; model: string }
  /** Call `tick` at this clock time (null: no timer needed); replaces any earlier timer. */
  | { type: "armTimer"; at: number | null }
  | { type: "progress"; id: number; progress: Progress }
  /** Into `failed`: `retryAt` (clock ms) is when a request may start it again, `failures` how many in a row. */
  | { type: "stateChanged"; model: string; from: ModelState; to: ModelState; detail?: string; retryAt?: number; failures?: number }
  | { type: "reply"; replyId: number; reply: Reply }
  | { type: "inflight"; model: string; inFlight: number; queued: number }
  /**
   * Whether a new request for `model` would be granted at once (ready, no queue, no swap or
   * reservation touching it, not shutting down): while it is, the main thread may hand a released
   * lease straight to the next request (protocol.ts `reusable`).
   */
  | { type: "reusable"; model: string; ok: boolean }
  | { type: "request"; id: number; model: string; action: "queued" | "released" | "cancelled" }
  /** A failure was counted: the next start of `model` waits `delayMs`; from `BACKOFF.fastFailAfter` failures on requests get 503 meanwhile (`fastFail`). */
  | { type: "restartScheduled"; model: string; delayMs: number; failures: number; fastFail: boolean };

/** The eviction policy's answer: models to stop first, or why the target can never run. */
export type Eviction = string[] | { cannotFit: string };

/** Result of `isIdle()`, the basis of the `settle` test hook. */
export interface IdleReport {
  idle: boolean;
  pending: string[];
}

/**
 * Restart policy numbers (DESIGN.md "Model process lifecycle", the seed
 * supervisor's): the delay before the next start after n consecutive
 * failures is `delaysMs[n-1]`, then `laterMs`, each ±`jitter`; from
 * `fastFailAfter` failures on, requests get 503 at once during the delay
 * instead of waiting for it; `healthyResetMs` ready forgets the failures.
 */
export const BACKOFF = {
  delaysMs: [1000, 2000, 4000, 8000, 16_000],
  laterMs: 30_000,
  jitter: 0.1,
  fastFailAfter: 5,
  healthyResetMs: 60_000,
} as const;
