/**
 * llama-swap's log endpoints: `GET /logs` (history as text, or a redirect to
 * the UI for browsers) and `GET /logs/stream[/proxy|/upstream|/:model]`
 * (history, then live lines, as chunked text until the client leaves).
 */
import type { Hono } from "hono";
import type { Context } from "hono";
import type { LogFilter, LogLine } from "../../observe/index.ts";
import type { AppDeps } from "../state.ts";
import { HttpError } from "../errors.ts";
import { keepOpen } from "../exchange.ts";
import { buildIndex, realModelId } from "../resolve/targets.ts";
import { MAX_QUEUED_BYTES, createPushStream } from "../stream/push-stream.ts";
import { UI_PATH } from "../ui/page.ts";

const TEXT_HEADERS = {
  "Content-Type": "text/plain; charset=utf-8",
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  // Keeps nginx from buffering the live stream.
  "X-Accel-Buffering": "no",
};

function asText(lines: LogLine[]): string {
  let out = "";
  for (const l of lines) out += `${l.text}\n`;
  return out;
}

function streamLogs(c: Context, deps: AppDeps, filter: LogFilter): Response {
  keepOpen(c);
  const history = c.req.query("no-history") === undefined ? asText(deps.logs.history(filter)) : "";
  // History does not count against the slow-client limit: it is bounded by the ring buffers.
  const out = createPushStream({ maxQueuedBytes: MAX_QUEUED_BYTES + history.length, onClose: () => unsubscribe() });
  if (history) out.push(history);
  // Subscribing in the same tick as reading history: no line is missed or repeated.
  const unsubscribe = deps.logs.subscribe(filter, (line) => out.push(`${line.text}\n`));
  c.req.raw.signal.addEventListener("abort", () => out.close(), { once: true });
  return new Response(out.stream, { headers: TEXT_HEADERS });
}

/**
 * Routes for `/logs` and `/logs/stream/*`.
 *
 * @example
 * ```ts
 * logRoutes(app, deps);
 * ```
 */
export function logRoutes(app: Hono, deps: AppDeps): void {
  const index = buildIndex(deps.config);

  app.get("/logs", (c) => {
    if ((c.req.header("Accept") ?? "").includes("text/html")) return c.redirect(UI_PATH, 302);
    return new Response(asText(deps.logs.history({ kind: "all" })), { headers: { "Content-Type": "text/plain; charset=utf-8" } });
  });
  app.get("/logs/stream", (c) => streamLogs(c, deps, { kind: "all" }));
  app.get("/logs/stream/proxy", (c) => streamLogs(c, deps, { kind: "proxy" }));
  app.get("/logs/stream/upstream", (c) => streamLogs(c, deps, { kind: "upstream" }));
  // Model ids may contain slashes ("author/model").
  app.get("/logs/stream/:model{.+}", (c) => {
    const name = c.req.param("model");
    const model = realModelId(index, name);
    if (model === null) {
      throw new HttpError("invalid_logger", `Cannot stream logs as the logger is unknown: use 'proxy', 'upstream' or a model id, got '${name}'`);
    }
    return streamLogs(c, deps, { kind: "model", model });
  });
}
