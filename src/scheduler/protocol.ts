/**
 * Every message that crosses the main-thread ↔ scheduler-Worker boundary.
 *
 * Plain data only: `postMessage` turns Error subclasses into plain Errors and
 * throws on functions, so failures travel as a status, a code and a message.
 * One discriminated union per direction; both sides switch over `type` with
 * an exhaustive `never` check.
 */
import type { Config, LogLevel } from "../config/types.ts";

/**
 * The candidates of a `warm` or `spillover` selector, named by the acquire;
 * the core picks one (llama-swap's rules, `policies/choose.ts`). `targets` are
 * model ids (aliases already resolved) or peer targets, listed in `peers`.
 */
export interface Select {
  strategy: "warm" | "spillover";
  targets: string[];
  peers: string[];
  /** spillover's reservation count. */
  reserve: number;
}

/** Lifecycle of one model process, as DESIGN.md names it. */
export type ModelState = "stopped" | "starting" | "ready" | "stopping" | "failed" | "shutdown";

/** Why a request was not granted; each maps to one HTTP status in one place. */
export type RejectCode =
  | "model_not_found" // 404
  | "too_many_requests" // 429, concurrencyLimit reached
  | "start_failed" // 502, the process exited or could not be spawned
  | "health_timeout" // 504, healthCheckTimeout passed
  | "backoff" // 503 + Retry-After, restart backoff or give-up
  | "unloaded" // 503, unload or swap released the waiter
  | "shutting_down" // 503
  | "cannot_fit" // 503, residency policy can never place it
  | "swap_timeout" // 503 + Retry-After, a swap waited maxSwapWait for a busy model
  | "not_running" // 409, ignorePaths/websocket request for a stopped model
  | "internal"; // 500

export interface Rejection {
  code: RejectCode;
  status: number;
  message: string;
  /** Seconds for a `Retry-After` header. */
  retryAfter?: number;
}

/** Snapshot of one configured model for `/running`, `/v1/models` and the UI. */
export interface ModelStatus {
  model: string;
  state: ModelState;
  inFlight: number;
  queued: number;
  pid: number | null;
  /** Clock time (ms) of the last state change. */
  since: number;
  /** ms spent in this state so far (uptime when ready). */
  forMs: number;
  /** The last start failure, health timeout or crash (with the server's last lines), or null. */
  lastError: string | null;
  /** Failed starts or early crashes in a row (restart backoff). */
  failures: number;
  /** When `failed`: ms until a request may start it again (0: the next request retries); else null. */
  retryInMs: number | null;
}

/** Loading progress pushed to a waiter (feeds `sendLoadingState`). */
export interface Progress {
  model: string;
  phase: "queued" | "starting" | "stopping_others" | "restarting";
  /** 1-based position among this model's waiters, when queued. */
  position?: number;
  message: string;
}

/** What modelswap logs about a model's life (the `event` of a lifecycle line; see lifecycle-log.ts). */
export type LifecycleEvent =
  | "starting"
  | "ready"
  | "health_failing"
  | "start_failed"
  | "crashed"
  | "restart_scheduled"
  | "evicting"
  | "unloading"
  | "stopped"
  | "unkillable"
  | "watchdog";

/** Extra facts of a log line, as JSON fields (in text they are already part of the message). */
export type LogFields = Record<string, string | number | boolean | null>;

/** What the Worker tells the main thread happened (sequenced on the main side). */
export type SchedulerEvent =
  /** Into `failed`: `retryInMs` until a request may start it again, `failures` in a row. */
  | { kind: "modelState"; model: string; state: ModelState; previous: ModelState; detail?: string; retryInMs?: number; failures?: number }
  | { kind: "inflight"; model: string; inFlight: number; queued: number }
  /** Upstream output, or a scheduler line (lifecycle lines carry `level`, `event` and `fields`; see lifecycle-log.ts). */
  | { kind: "log"; source: "upstream" | "scheduler"; model: string; line: string; level?: LogLevel; event?: LifecycleEvent; fields?: LogFields }
  | { kind: "request"; model: string; id: number; action: "queued" | "granted" | "rejected" | "released" | "cancelled" }
  | { kind: "clock"; now: number };

export interface WorkerOptions {
  /** Time inside the scheduler moves only by `clockAdvance`. */
  manualClock: boolean;
  /** JSON-lines file receiving every core input event, or null. */
  recordFile: string | null;
  /** Directory for pid records that let a later run clean up leftovers. */
  stateDir: string;
  /** Command line that runs this program (for `${MODELSWAP}`-using stops). */
  selfCommand: string[];
}

/** Main thread → Worker. */
export type ToWorker =
  | { type: "init"; config: Config; options: WorkerOptions }
  /** `keepAliveMs`: the request's keep_alive (negative keeps the model loaded); absent: the model's ttl. */
  | { type: "acquire"; id: number; model: string; wantProgress: boolean; noStart: boolean; keepAliveMs?: number; select?: Select }
  /**
   * Models whose responses moved bytes to a client since the last report: the
   * busy watchdog's evidence of progress. Sent at most once a second, and only
   * when something moved (one Set.add per chunk on the hot path, no message).
   */
  | { type: "activity"; models: string[] }
  | { type: "release"; id: number }
  | { type: "cancel"; id: number }
  | { type: "call"; reqId: number; call: Call }
  /** Several messages in one post, in order (why: each postMessage wakes the other thread; cost in DESIGN.md). */
  | { type: "batch"; messages: ToWorker[] };

/** Requests that expect exactly one `reply`. */
export type Call =
  | { op: "status" }
  | { op: "unload"; model: string | null }
  | { op: "shutdown"; graceMs: number }
  | { op: "reload"; config: Config }
  | { op: "clockNow" }
  | { op: "clockAdvance"; ms: number }
  | { op: "settle"; timeoutMs: number }
  | { op: "kill"; model: string }
  | { op: "healthOverride"; model: string; fail: boolean }
  /** Fault drill: the Worker throws, as a bug would; the main thread must fail fast. */
  | { op: "crash" };

/** The outcome of `settle`: idle, or what is still in progress at the timeout. */
export interface SettleResult {
  settled: boolean;
  /** Human-readable list of what is still in progress. */
  pending: string[];
}

/** What the reply to each call carries: one entry per `Call["op"]`. */
export interface CallReplies {
  status: ModelStatus[];
  /** The ids that were stopped. */
  unload: string[];
  shutdown: null;
  reload: null;
  clockNow: number;
  clockAdvance: number;
  settle: SettleResult;
  kill: null;
  healthOverride: null;
  crash: null;
}

export type CallOp = Call["op"];

/** The reply to one `op`, tagged with it so the client can check it answers the call it is for. */
export interface ReplyOf<O extends CallOp> {
  op: O;
  value: CallReplies[O];
}

/** A successful reply to any call. */
export type Reply = { [O in CallOp]: ReplyOf<O> }[CallOp];

/** Worker → main thread. */
export type FromWorker =
  | { type: "ready" }
  /** `model`: the model granted (a replica of the one acquired, or a selector's pick); absent: the one acquired. */
  | { type: "granted"; id: number; upstream: string; model?: string }
  /** A selector picked a peer target: nothing is held; the caller forwards to it. */
  | { type: "routed"; id: number; target: string }
  | { type: "rejected"; id: number; rejection: Rejection }
  | { type: "progress"; id: number; progress: Progress }
  | { type: "reply"; reqId: number; ok: true; reply: Reply }
  | { type: "reply"; reqId: number; ok: false; rejection: Rejection }
  | { type: "event"; event: SchedulerEvent }
  /**
   * Whether a new request for `model` would be granted at once. While it is, a lease
   * released on the main thread may be handed to the next request for the same model
   * without a round trip (held while requests for it keep coming: lease-handover.ts);
   * when it stops being so, held leases are released at once.
   */
  | { type: "reusable"; model: string; ok: boolean }
  | { type: "fatal"; message: string }
  /** Several messages in one post, in order. */
  | { type: "batch"; messages: FromWorker[] };

/** HTTP status for each rejection code: the one place this mapping lives. */
export const statusFor: Record<RejectCode, number> = {
  model_not_found: 404,
  too_many_requests: 429,
  start_failed: 502,
  health_timeout: 504,
  backoff: 503,
  unloaded: 503,
  shutting_down: 503,
  cannot_fit: 503,
  swap_timeout: 503,
  not_running: 409,
  internal: 500,
};

/** Builds a rejection whose status follows from its code. */
export function rejection(code: RejectCode, message: string, retryAfter?: number): Rejection {
  const r: Rejection = { code, status: statusFor[code], message };
  if (retryAfter !== undefined) r.retryAfter = retryAfter;
  return r;
}

/**
 * A batch of acquires and releases crosses to the Worker as JSON text: a
 * string is copied as one block, while a structured clone walks every
 * object (measured in Bun 1.4.5: ~7 µs against ~11-16 µs of CPU per batch of
 * four acquires; the post was ~9 % of the main thread at 64 connections).
 * Core inputs are JSON-safe already (`--record` writes them as JSON lines).
 */
export function encodeToWorker(messages: ToWorker[]): string {
  return JSON.stringify(messages.length === 1 ? messages[0] : { type: "batch", messages });
}

/** What arrived at the Worker: a message, or one encoded by `encodeToWorker`. */
export function decodeToWorker(data: ToWorker | string): ToWorker {
  return typeof data === "string" ? (JSON.parse(data) as ToWorker) : data;
}

/**
 * What the Worker posts for `messages`: JSON text as `encodeToWorker` (grants,
 * rejections, progress and events are plain data), except when a call's
 * reply is among them (a reply may carry values JSON would change).
 */
export function encodeFromWorker(messages: FromWorker[]): FromWorker | string {
  const m: FromWorker = messages.length === 1 ? messages[0]! : { type: "batch", messages };
  for (const x of messages) if (x.type === "reply") return m;
  return JSON.stringify(m);
}

/** What arrived from the Worker: a message, or one encoded by `encodeFromWorker`. */
export function decodeFromWorker(data: FromWorker | string): FromWorker {
  return typeof data === "string" ? (JSON.parse(data) as FromWorker) : data;
}
