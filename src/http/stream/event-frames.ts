/**
 * `/api/events` frames in llama-swap's envelope (`{"type", "data": "<JSON
 * string>"}`) with modelswap's sequence numbers alongside, so llama-swap's
 * UI and tools read `type`/`data` while modelswap scripts read `seq`/`event`.
 * One `EventView` per stream tracks what the envelope needs beyond the event
 * itself: every model's state and every model's in-flight count.
 */
import type { Config } from "../../config/types.ts";
import type { ModelState, ModelStatus } from "../../scheduler/protocol.ts";
import { formatLogTime, type LogHub, type SequencedEvent } from "../../observe/index.ts";
import { sseMessage } from "./sse.ts";

/** The states llama-swap's UI knows. */
export type LlamaState = "ready" | "starting" | "stopping" | "shutdown" | "stopped" | "unknown";

/** One row of llama-swap's `modelStatus` array. */
export interface LlamaModel {
  id: string;
  name: string;
  description: string;
  /** Empty for a peer's model, as llama-swap leaves it. */
  state: LlamaState | "";
  unlisted: boolean;
  /** Empty for local models. */
  peerID: string;
  /** Omitted when the model has none (Go's `omitempty`). */
  aliases?: string[];
}

/** llama-swap's message types, plus modelswap's own kinds that have no llama-swap counterpart. */
export type MessageType = "modelStatus" | "logData" | "metrics" | "inflight" | "request" | "clock" | "profileChanged";

/** The JSON inside one `event: message` frame. */
export interface EventMessage {
  type: MessageType;
  /** JSON text, as llama-swap sends it. */
  data: string;
  /** The hub event's seq; for connect-time snapshot frames, the hub's last seq at connect. */
  seq: number;
  /** Wall time in ms. */
  time: number;
  /** The hub event; absent on snapshot frames. */
  event?: SequencedEvent["event"];
}

/** Maps modelswap's state to llama-swap's; `failed` reads as `stopped` (llama-swap has no failed state). */
export function llamaState(state: ModelState | undefined): LlamaState {
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
      return "stopped";
    default: {
      const never: never = state;
      throw new TypeError(`Cannot map model state: '${String(never)}' is unknown`);
    }
  }
}

/**
 * llama-swap's `modelStatus` array: configured models sorted by id, then each peer's models.
 *
 * @example
 * ```ts
 * modelStatusList(config, new Map([["llama", "ready"]]))[0]; // { id: "llama", state: "ready", ... }
 * ```
 */
export function modelStatusList(config: Config, states: ReadonlyMap<string, ModelState>): LlamaModel[] {
  const out: LlamaModel[] = [];
  for (const id of Object.keys(config.models).sort()) {
    const m = config.models[id]!;
    // A model with replicas has no process of its own: it is as far along as its readiest replica.
    const rs = m.replicas.map((r) => states.get(r));
    const state = rs.length === 0 ? states.get(id) : (rs.find((s) => s === "ready") ?? rs.find((s) => s === "starting") ?? rs.find((s) => s !== undefined));
    const row: LlamaModel = { id, name: m.name, description: m.description, state: llamaState(state), unlisted: m.unlisted, peerID: "" };
    if (m.aliases.length > 0) row.aliases = [...m.aliases];
    out.push(row);
  }
  for (const peerId of Object.keys(config.peers).sort()) {
    for (const id of config.peers[peerId]!.models) out.push({ id, name: "", description: "", state: "", unlisted: false, peerID: peerId });
  }
  return out;
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
  /** Model id → state; models absent here are `unknown`. */
  readonly #states = new Map<string, ModelState>();
  /** Model id → requests being served or waiting for it (llama-swap counts both). */
  readonly #inflight = new Map<string, number>();
  /** The active profile as the last `profileChanged` frame said (none at start; `GET /api/profiles` has it). */
  profile: string | null = null;

  constructor(config: Config, statuses: readonly ModelStatus[]) {
    this.#config = config;
    for (const s of statuses) {
      this.#states.set(s.model, s.state);
      this.#inflight.set(s.model, s.inFlight + s.queued);
    }
  }

  /** `modelStatus` data for the states known now. */
  modelStatusData(): string {
    return JSON.stringify(modelStatusList(this.#config, this.#states));
  }

  /** `inflight` data: `{"total": N}` across all models. */
  inflightData(): string {
    let total = 0;
    for (const n of this.#inflight.values()) total += n;
    return JSON.stringify({ total });
  }

  /** Applies `e` to the view and returns its message (why: one frame per hub event, in seq order). */
  message(e: SequencedEvent): EventMessage {
    const event = e.event;
    const base = { seq: e.seq, time: e.time, event };
    switch (event.kind) {
      case "modelState":
        this.#states.set(event.model, event.state);
        return { type: "modelStatus", data: this.modelStatusData(), ...base };
      case "inflight":
        this.#inflight.set(event.model, event.inFlight + event.queued);
        return { type: "inflight", data: this.inflightData(), ...base };
      case "log": {
        // Scheduler lines land in the proxy log as `[model] line` with its timestamp (see src/observe/connect.ts).
        const stamp = formatLogTime(this.#config.logTimeFormat, e.time);
        const proxyLine = `${stamp ? `${stamp} ` : ""}[${event.model}] ${event.line}`;
        const data = event.source === "upstream" ? { source: "upstream", data: `${event.line}\n` } : { source: "proxy", data: `${proxyLine}\n` };
        return { type: "logData", data: JSON.stringify(data), ...base };
      }
      case "proxyLog":
        return { type: "logData", data: JSON.stringify({ source: "proxy", data: `${event.line}\n` }), ...base };
      case "request":
      case "clock":
        return { type: event.kind, data: JSON.stringify(event), ...base };
      case "profile":
        this.profile = event.active;
        return { type: "profileChanged", data: JSON.stringify({ active: event.active }), ...base };
      default: {
        const never: never = event;
        throw new TypeError(`Cannot format event: kind is unknown: ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * llama-swap's connect-time batch: proxy and upstream log history, model
   * states, metrics (always `[]`: modelswap collects no token metrics), in-flight total.
   */
  snapshot(logs: LogHub, seq: number, time: number): EventMessage[] {
    const message = (type: MessageType, data: string): EventMessage => ({ type, data, seq, time });
    return [
      message("logData", JSON.stringify({ source: "proxy", data: logText(logs.history({ kind: "proxy" })) })),
      message("logData", JSON.stringify({ source: "upstream", data: logText(logs.history({ kind: "upstream" })) })),
      message("modelStatus", this.modelStatusData()),
      message("metrics", "[]"),
      message("inflight", this.inflightData()),
    ];
  }
}

/** The SSE frame for `m`: `event: message`, with `id: <seq>` only for hub events (snapshots have none). */
export function messageFrame(m: EventMessage): string {
  return sseMessage("message", JSON.stringify(m), m.event === undefined ? undefined : m.seq);
}

/** Parses a non-negative integer `since` / `Last-Event-ID` value, or returns null. */
export function parseSeq(raw: string | undefined): number | null {
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}
