/**
 * `/api/events` frames in llama-swap's envelope (`{"type", "data": "<JSON
 * string>"}`) with modelswap's sequence numbers alongside, so llama-swap's
 * UI and tools read `type`/`data` while modelswap scripts read `seq`/`event`.
 * One `EventView` per stream tracks what the envelope needs beyond the event
 * itself: every model's state (with the error and retry time of a failed
 * one), in-flight and queued counts, and when it entered its state.
 */
import type { Config } from "../../config/types.ts";
import type { ModelState, ModelStatus } from "../../scheduler/protocol.ts";
import { formatRecord, levelEnabled, type LogHub, schedulerRecord, type SequencedEvent } from "../../observe/index.ts";
import type { ActivityEntry } from "../../metrics/index.ts";
import { sseMessage } from "./sse.ts";
import type { EventMessageOf, LlamaModel, LlamaState, MessageType } from "../../ui/wire.ts";

/** What a stream knows of one local model beyond llama-swap's row. */
export interface ModelFacts {
  state: ModelState;
  inFlight: number;
  queued: number;
  since: number;
  error: string | null;
  retryAt: number | null;
  failures: number;
}

/** Failures in a row after which requests stop retrying until an unload or reload (the scheduler's give-up). */
const GIVE_UP_AFTER = 5;

/** The JSON inside one `event: message` frame (the shape the web UI reads, `src/ui/wire.ts`). */
export type EventMessage = EventMessageOf<SequencedEvent["event"]>;

/** Maps modelswap's state to the row's: a failed model waiting out its backoff reads `backoff`. */
export function llamaState(facts: ModelFacts | undefined, now: number): LlamaState {
  const state = facts?.state;
  switch (state) {
    case undefined:
      return "unknown";
    case "ready":
    case "starting":
    case "stopping":
    case "shutdown":
    case "stopped":
      return state;
    case "failed":
      return facts!.retryAt !== null && facts!.retryAt > now && facts!.failures < GIVE_UP_AFTER ? "backoff" : "failed";
    default: {
      const never: never = state;
      throw new TypeError(`Cannot map model state: '${String(never)}' is unknown`);
    }
  }
}

/**
 * llama-swap's `modelStatus` array: configured models sorted by id, then each
 * peer's models; local rows carry modelswap's facts (in flight, queued, since,
 * error, retryAt).
 *
 * @example
 * ```ts
 * modelStatusList(config, new Map([["llama", facts]]), Date.now())[0]; // { id: "llama", state: "ready", ... }
 * ```
 */
export function modelStatusList(config: Config, models: ReadonlyMap<string, ModelFacts>, now: number): LlamaModel[] {
  const out: LlamaModel[] = [];
  for (const id of Object.keys(config.models).sort()) {
    const m = config.models[id]!;
    // A model with replicas has no process of its own: it is as far along as its readiest replica.
    const rs = m.replicas.flatMap((r) => models.get(r) ?? []);
    const f = m.replicas.length === 0 ? models.get(id) : (rs.find((x) => x.state === "ready") ?? rs.find((x) => x.state === "starting") ?? rs[0]);
    const state = llamaState(f, now);
    const row: LlamaModel = { id, name: m.name, description: m.description, state, unlisted: m.unlisted, peerID: "" };
    if (m.aliases.length > 0) row.aliases = [...m.aliases];
    if (f !== undefined) {
      const failed = state === "failed" || state === "backoff";
      Object.assign(row, { inFlight: f.inFlight, queued: f.queued, since: f.since, error: failed ? f.error : null, retryAt: failed ? f.retryAt : null });
    }
    out.push(row);
  }
  for (const peerId of Object.keys(config.peers).sort()) {
    for (const id of config.peers[peerId]!.models) out.push({ id, name: "", description: "", state: "", unlisted: false, peerID: peerId });
  }
  return out;
}

/** A model's facts from a `status()` row taken at wall time `now`. */
export function factsOf(s: ModelStatus, now: number): ModelFacts {
  return {
    state: s.state,
    inFlight: s.inFlight,
    queued: s.queued,
    since: now - s.forMs,
    error: s.lastError,
    retryAt: s.retryInMs === null ? null : now + s.retryInMs,
    failures: s.failures,
  };
}

/** Log text as llama-swap streams it: one `\n`-terminated line after another. */
function logText(lines: Iterable<{ text: string }>): string {
  let text = "";
  for (const l of lines) text += `${l.text}\n`;
  return text;
}

/** What one stream knows about every model, seeded from `status()` and kept current by the events it formats. */
export class EventView {
  readonly #config: Config;
  /** Model id → facts; models absent here are `unknown`. */
  readonly #models = new Map<string, ModelFacts>();
  readonly #style: { format: Config["logFormat"]; timeFormat: string };
  /** The active profile as the last `profileChanged` frame said (none at start; `GET /api/profiles` has it). */
  profile: string | null = null;

  constructor(config: Config, statuses: readonly ModelStatus[], now = Date.now()) {
    this.#config = config;
    this.#style = { format: config.logFormat, timeFormat: config.logTimeFormat };
    for (const s of statuses) this.#models.set(s.model, factsOf(s, now));
  }

  /** `modelStatus` data for the states known now. */
  modelStatusData(now = Date.now()): string {
    return JSON.stringify(modelStatusList(this.#config, this.#models, now));
  }

  /** `inflight` data: `{"total": N}` across all models (served or waiting, as llama-swap counts). */
  inflightData(): string {
    let total = 0;
    for (const f of this.#models.values()) total += f.inFlight + f.queued;
    return JSON.stringify({ total });
  }

  #facts(model: string, time: number): ModelFacts {
    let f = this.#models.get(model);
    if (f === undefined) this.#models.set(model, (f = { state: "stopped", inFlight: 0, queued: 0, since: time, error: null, retryAt: null, failures: 0 }));
    return f;
  }

  /** Applies `e` to the view and returns its message (why: one frame per hub event, in seq order). */
  message(e: SequencedEvent): EventMessage {
    const event = e.event;
    const base = { seq: e.seq, time: e.time, event };
    switch (event.kind) {
      case "modelState": {
        const f = this.#facts(event.model, e.time);
        f.state = event.state;
        f.since = e.time;
        if (event.state === "failed") {
          f.error = event.detail ?? f.error;
          f.retryAt = event.retryInMs === undefined ? null : e.time + event.retryInMs;
          f.failures = event.failures ?? f.failures;
        } else if (event.state === "ready") {
          f.error = null;
          f.retryAt = null;
          f.failures = 0;
        }
        return { type: "modelStatus", data: this.modelStatusData(e.time), ...base };
      }
      case "inflight": {
        const f = this.#facts(event.model, e.time);
        f.inFlight = event.inFlight;
        f.queued = event.queued;
        return { type: "inflight", data: this.inflightData(), ...base };
      }
      case "log": {
        // The same text the log hub stores (src/observe/connect.ts): upstream lines tagged `[model]`, scheduler lines as proxy records.
        if (event.source === "upstream") {
          const text = formatRecord({ time: e.time, source: "upstream", level: null, model: event.model, event: null, msg: event.line }, this.#style);
          return { type: "logData", data: JSON.stringify({ source: "upstream", data: `${text}\n` }), ...base };
        }
        const r = schedulerRecord(event);
        const shown = r.level === null || levelEnabled(this.#config.logLevel, r.level);
        const text = shown ? `${formatRecord({ ...r, time: e.time }, this.#style)}\n` : "";
        return { type: "logData", data: JSON.stringify({ source: "proxy", data: text }), ...base };
      }
      case "proxyLog":
        return { type: "logData", data: JSON.stringify({ source: "proxy", data: `${event.line}\n` }), ...base };
      case "activity":
        return { type: "metrics", data: JSON.stringify([event.entry]), ...base };
      case "profile":
        this.profile = event.active;
        return { type: "profileChanged", data: JSON.stringify({ active: event.active }), ...base };
      case "request":
      case "clock":
        return { type: event.kind, data: JSON.stringify(event), ...base };
      default: {
        const never: never = event;
        throw new TypeError(`Cannot format event: kind is unknown: ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * llama-swap's connect-time batch: proxy and upstream log history, model
   * states, metrics (the activity rows kept now), in-flight total.
   */
  snapshot(logs: LogHub, activity: readonly ActivityEntry[], seq: number, time: number): EventMessage[] {
    const message = (type: MessageType, data: string): EventMessage => ({ type, data, seq, time });
    return [
      message("logData", JSON.stringify({ source: "proxy", data: logText(logs.history({ kind: "proxy" })) })),
      message("logData", JSON.stringify({ source: "upstream", data: logText(logs.history({ kind: "upstream" })) })),
      message("modelStatus", this.modelStatusData(time)),
      message("metrics", JSON.stringify(activity)),
      message("inflight", this.inflightData()),
    ];
  }
}

/** The SSE frame for `m`: `event: message`, with `id: <seq>` only for hub events (snapshots have none). */
export function messageFrame(m: EventMessage, resumeHere = false): string {
  return sseMessage("message", JSON.stringify(m), m.event === undefined && !resumeHere ? undefined : m.seq);
}

/** Parses a non-negative integer `since` / `Last-Event-ID` value, or returns null. */
export function parseSeq(raw: string | undefined): number | null {
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}
