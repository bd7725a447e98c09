/**
 * What the proxied requests did: llama-swap's `/api/metrics/activity` and
 * `/api/metrics/stats`, `/api/captures/:id`, `POST /api/inflight/:id/cancel`
 * (plus `GET /api/inflight`, the ids to cancel), and Prometheus `/metrics`.
 */
import type { Hono } from "hono";
import type { Context } from "hono";
import { type ActivityQuery, DEFAULT_QUERY, isSortKey } from "../../metrics/index.ts";
import { HttpError } from "../errors.ts";
import type { Front } from "../state.ts";

function bad(message: string): never {
  throw new HttpError("invalid_query", message);
}

/** An RFC 3339 time parameter as ms, 0 when absent. */
function timeParam(c: Context, name: string): number {
  const raw = c.req.query(name)?.trim();
  if (!raw) return 0;
  const t = Date.parse(raw);
  if (!/^\d{4}-\d\d-\d\dT/.test(raw) || Number.isNaN(t)) bad(`Cannot list activity as '${name}' must be an RFC 3339 time: current value is '${raw}'`);
  return t;
}

/** A positive integer parameter, `fallback` when absent. */
function intParam(c: Context, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = c.req.query(name)?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) bad(`Cannot list activity as '${name}' must be an integer from 1 to ${max}: current value is '${raw}'`);
  return Number(raw);
}

/** llama-swap's activity query parameters (and modelswap's `status`: `ok`, `error` or a code). */
export function activityQuery(c: Context): ActivityQuery {
  const q: ActivityQuery = { ...DEFAULT_QUERY, models: (c.req.queries("model") ?? []).map((m) => m.trim()).filter(Boolean) };
  q.start = timeParam(c, "start");
  q.end = timeParam(c, "end");
  if (q.start > 0 && q.end > 0 && q.start > q.end) bad("Cannot list activity as 'start' is after 'end'");
  q.minId = intParam(c, "min_id", 0);
  q.maxId = intParam(c, "max_id", 0);
  if (q.minId > 0 && q.maxId > 0 && q.minId > q.maxId) bad("Cannot list activity as 'min_id' is above 'max_id'");
  q.limit = intParam(c, "limit", DEFAULT_QUERY.limit, 999);
  q.page = intParam(c, "page", 1);
  const sort = c.req.query("sort")?.trim();
  if (sort) {
    if (!isSortKey(sort)) bad(`Cannot list activity as 'sort' names no column: current value is '${sort}'`);
    q.sort = sort;
  }
  const order = c.req.query("order")?.trim().toLowerCase();
  if (order) {
    if (order !== "asc" && order !== "desc") bad(`Cannot list activity as 'order' must be asc or desc: current value is '${order}'`);
    q.order = order;
  }
  const status = c.req.query("status")?.trim();
  if (status) {
    if (status !== "ok" && status !== "error" && !/^\d{3}$/.test(status)) bad(`Cannot list activity as 'status' must be ok, error or a status code: current value is '${status}'`);
    q.status = status;
  }
  return q;
}

/**
 * Routes for activity, captures, in-flight requests and `/metrics`.
 *
 * @example
 * ```ts
 * metricsRoutes(app, front);
 * ```
 */
export function metricsRoutes(app: Hono, front: Front): void {
  const m = front.metrics;

  app.get("/metrics", () => new Response(m.prom.text(), { headers: { "Content-Type": m.prom.contentType } }));

  app.get("/api/metrics/activity", (c) => {
    const page = m.activity.list(activityQuery(c));
    return c.json({ ...page, data: m.withCaptureState(page.data) });
  });

  app.get("/api/metrics/stats", (c) => c.json(m.activity.stats(c.req.query("model")?.trim() ?? "")));

  app.get("/api/captures/:id", (c) => {
    const raw = c.req.param("id");
    if (!/^\d+$/.test(raw)) throw new HttpError("invalid_query", `Cannot read capture as its id must be a number: current value is '${raw}'`);
    const capture = m.captures.get(Number(raw));
    if (capture === null) throw new HttpError("capture_not_found", `Cannot find capture: ${raw} (captures are kept within captureBuffer MB, oldest dropped first)`);
    return c.json(capture);
  });

  app.get("/api/inflight", (c) => c.json({ requests: front.requests.list() }));

  app.post("/api/inflight/:id/cancel", (c) => {
    const id = c.req.param("id");
    if (!front.requests.cancel(id)) throw new HttpError("inflight_not_found", `Cannot cancel request as none is in flight with id: ${id}`);
    return c.json({ msg: "ok" });
  });
}
