/**
 * `GET /api/events`: one server-sent-event stream of everything the UI and
 * CI scripts watch (model states, log lines, in-flight counts, request
 * activity), each event numbered. `?since=SEQ` (or `Last-Event-ID`) replays
 * what is still buffered first. A client that stops reading is dropped, never
 * allowed to hold the publisher back.
 */
import { Hono } from "hono";
import type { AppDeps, SequencedEvent } from "../deps.ts";
import { HttpError, errorResponse } from "../errors.ts";
import { MAX_QUEUED_BYTES, createPushStream, keepOpen, sseMessage } from "../sse.ts";

const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
};

/** The SSE frame for one event: `event: <kind>`, `id: <seq>`, data is the SequencedEvent as JSON. */
export function eventFrame(e: SequencedEvent): string {
  return sseMessage(e.event.kind, JSON.stringify(e), e.seq);
}

/** Parses a non-negative integer query value, or returns null. */
export function parseSeq(raw: string | undefined): number | null {
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

export interface EventRoutesOptions {
  /** Unread bytes per client before it is dropped, default 1 MiB (plus the replay). */
  maxQueuedBytes?: number;
}

/**
 * Routes for `/api/events`.
 *
 * @example
 * ```ts
 * app.route("/", eventRoutes(deps));
 * ```
 */
export function eventRoutes(deps: AppDeps, options: EventRoutesOptions = {}): Hono {
  const app = new Hono();
  const limit = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;

  app.get("/api/events", (c) => {
    const rawSince = c.req.query("since") ?? c.req.header("Last-Event-ID");
    const since = rawSince === undefined ? null : parseSeq(rawSince);
    if (rawSince !== undefined && since === null) {
      const err = new HttpError(400, "invalid_since", `Cannot stream events as 'since' must be a non-negative integer: current value is '${rawSince}'`);
      return errorResponse(err, c.req.header("Accept"));
    }
    keepOpen(c);
    let replay = "";
    if (since !== null) for (const e of deps.events.since(since)) replay += eventFrame(e);
    const out = createPushStream({
      maxQueuedBytes: limit + replay.length,
      droppedNotice: sseMessage("dropped", JSON.stringify({ reason: "Client read too slowly; reconnect with ?since=<last seq>" })),
      onClose: () => unsubscribe(),
    });
    // A comment first, so clients see the stream open even when nothing happens yet.
    out.push(`: modelswap events, last seq ${deps.events.lastSeq}\n\n${replay}`);
    // Same tick as the replay: no event is missed or repeated.
    const unsubscribe = deps.events.subscribe((e) => out.push(eventFrame(e)));
    c.req.raw.signal.addEventListener("abort", () => out.close(), { once: true });
    return new Response(out.stream, { headers: SSE_HEADERS });
  });

  return app;
}
