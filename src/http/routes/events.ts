/**
 * `GET /api/events`: llama-swap's event stream (`event: message`, data
 * `{"type","data"}` with `modelStatus`, `logData`, `metrics`, `inflight`),
 * every frame also carrying modelswap's `seq`, `time` and `event` so CI
 * scripts can wait on exact events. At connect: llama-swap's snapshot batch,
 * or with `?since=SEQ` (or `Last-Event-ID`) the buffered events after SEQ.
 * A client that stops reading is dropped, never allowed to hold the
 * publisher back.
 */
import type { Hono } from "hono";
import type { ActivityEntry } from "../../metrics/index.ts";
import { EVENT_BUFFER_CAPACITY, type LogHub, type SequencedEvent } from "../../observe/index.ts";
import type { AppDeps } from "../state.ts";
import { HttpError } from "../errors.ts";
import { keepOpen } from "../exchange.ts";
import { EventView, messageFrame, parseSeq } from "../stream/event-frames.ts";
import { MAX_QUEUED_BYTES, createPushStream } from "../stream/push-stream.ts";
import { SSE_HEADERS, sseMessage } from "../stream/sse.ts";

const DROPPED = sseMessage("dropped", JSON.stringify({ reason: "Client read too slowly; reconnect with ?since=<last seq>" }));

/** The SSE frame for one hub event, applied to `view` first (see `EventView.message`). */
export function eventFrame(e: SequencedEvent, view: EventView): string {
  return messageFrame(view.message(e));
}

/** A LogHub whose proxy and upstream history is what `logs` holds now (why: the snapshot is built later). */
function historyAt(logs: LogHub): LogHub {
  const proxy = logs.history({ kind: "proxy" });
  const upstream = logs.history({ kind: "upstream" });
  return {
    append: (source, model, text) => logs.append(source, model, text),
    write: (record) => logs.write(record),
    subscribe: (filter, listener) => logs.subscribe(filter, listener),
    history: (filter) => (filter.kind === "proxy" ? proxy : filter.kind === "upstream" ? upstream : logs.history(filter)),
  };
}

export interface EventRoutesOptions {
  /** The activity rows kept now, for the connect-time `metrics` frame (none when not given). */
  activity?: () => readonly ActivityEntry[];
  /** Where open streams register while they are open (for the disconnect drill of the test hooks). */
  streams?: Set<{ close(): void }>;
}

/**
 * Routes for `/api/events`.
 *
 * @example
 * ```ts
 * eventRoutes(app, deps, { activity: () => metrics.activity.all() });
 * ```
 */
export function eventRoutes(app: Hono, deps: AppDeps, options: EventRoutesOptions = {}): void {
  /** Unread bytes per client before it is dropped (the connect-time batch does not count). */
  const limit = MAX_QUEUED_BYTES;

  app.get("/api/events", (c) => {
    const rawSince = c.req.query("since") ?? c.req.header("Last-Event-ID");
    const since = rawSince === undefined ? null : parseSeq(rawSince);
    if (rawSince !== undefined && since === null) {
      throw new HttpError("invalid_since", `Cannot stream events as 'since' must be a non-negative integer: current value is '${rawSince}'`);
    }
    keepOpen(c);
    // Taken in one tick with the subscription below: no event is missed or repeated.
    const atConnect = deps.events.lastSeq;
    const replay = since === null ? [] : deps.events.since(since);
    // Log history too: a line logged while `status()` is pending is queued in `pending`; read later, it would be sent twice.
    const logsAtConnect = since === null ? historyAt(deps.logs) : deps.logs;
    // The rows too, for the same reason: a row recorded while `status()` is pending arrives as a live frame.
    const activityAtConnect = since === null ? [...(options.activity?.() ?? [])] : [];
    /** Set once the connect-time batch is queued; until then live events wait in `pending`. */
    let view: EventView | null = null;
    const pending: SequencedEvent[] = [];
    const out = createPushStream({
      maxQueuedBytes: limit,
      droppedNotice: DROPPED,
      onClose: () => {
        unsubscribe();
        options.streams?.delete(out);
      },
    });
    options.streams?.add(out);
    // A comment first, so clients see the stream open even before the model states arrive.
    out.push(`: modelswap events, last seq ${atConnect}\n\n`);
    const unsubscribe = deps.events.subscribe((e) => {
      if (view) out.push(eventFrame(e, view));
      else if (pending.push(e) > EVENT_BUFFER_CAPACITY) {
        // The scheduler has not answered `status()` while the events piled up: give up like a slow reader.
        out.push(DROPPED, false);
        out.close();
      }
    });
    c.req.raw.signal.addEventListener("abort", () => out.close(), { once: true });

    void deps.scheduler
      .status()
      .catch(() => [])
      .then((statuses) => {
        if (out.closed) return;
        const v = new EventView(deps.config, statuses);
        let batch = "";
        if (since === null) {
          // The batch's last frame carries `id: <seq at connect>`: a browser that reconnects before any
          // live event (EventSource sends Last-Event-ID) resumes after the snapshot instead of getting it twice.
          const snapshot = v.snapshot(logsAtConnect, activityAtConnect, atConnect, Date.now());
          snapshot.forEach((m, i) => (batch += messageFrame(m, i === snapshot.length - 1)));
        }
        else {
          for (const e of replay) batch += eventFrame(e, v);
          batch += messageFrame({ type: "modelStatus", data: v.modelStatusData(), seq: atConnect, time: Date.now() });
        }
        out.push(batch, false);
        for (const e of pending.splice(0)) out.push(eventFrame(e, v));
        view = v;
      });
    return new Response(out.stream, { headers: SSE_HEADERS });
  });
}
