/**
 * Every error response the HTTP front sends, built in one place, from one
 * vocabulary: an `HttpErrorCode` names what went wrong, `STATUS_OF` gives its
 * HTTP status (one code, one status, like the scheduler's `RejectCode` /
 * `statusFor`, whose codes are part of this union).
 *
 * Clients of an OpenAI-compatible server expect `{"error":{"message","type","code"}}`;
 * a browser or curl that asks for text/plain or text/html gets that instead.
 */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { SchedulerError } from "../scheduler/api.ts";
import { type RejectCode, type Rejection, statusFor } from "../scheduler/protocol.ts";
import { sseMessage } from "./stream/sse.ts";

/** What the front itself can reject a request for (the scheduler's reasons are `RejectCode`). */
export type FrontErrorCode =
  | "not_found" // 404, no route
  | "invalid_api_key" // 401
  | "origin_not_allowed" // 403, cors.allowOrigins does not list the page's origin
  | "request_too_large" // 413, body or upload over its limit
  | "invalid_json" // 400, the body is not JSON
  | "invalid_request" // 400, the JSON body is not an object
  | "missing_model" // 400, no model named (body, form, query or /upstream/ path)
  | "invalid_model" // 400, `model` is not a non-empty string
  | "invalid_form" // 400, multipart without body or boundary
  | "invalid_body" // 400, a test-hook body that fails its schema
  | "invalid_timeout" // 400, `?timeout=` is not a duration
  | "invalid_since" // 400, `?since=` / Last-Event-ID is not a sequence number
  | "invalid_logger" // 400, `/logs/stream/<x>` names no logger or model
  | "invalid_query" // 400, an `/api/metrics/activity` or `/api/performance` query value out of range
  | "capture_not_found" // 404, no capture kept for that activity id
  | "inflight_not_found" // 404, no open request with that id
  | "websocket_unavailable" // 400, not served by Bun.serve (app.request in tests)
  | "websocket_upgrade_failed" // 400
  | "client_closed" // 499, the client left before its answer
  | "upstream_error" // 502, the model server could not be reached or its body failed
  | "upstream_timeout" // 504, no response headers within timeouts.responseHeader
  | "upstream_stalled" // 504 (or an SSE error event once streaming), no byte for watchdog.stallTimeout
  | "invalid_keep_alive" // 400, `keep_alive` is not seconds or a duration
  | "profile_not_found" // 404, PUT /api/profiles/active names no profile
  | "invalid_profile"; // 400, PUT /api/profiles/active without a string or null `name`

/** Every code an error response can carry. */
export type HttpErrorCode = RejectCode | FrontErrorCode;

/** The one status of each code. */
export const STATUS_OF: Readonly<Record<HttpErrorCode, number>> = {
  ...statusFor,
  not_found: 404,
  invalid_api_key: 401,
  origin_not_allowed: 403,
  request_too_large: 413,
  invalid_json: 400,
  invalid_request: 400,
  missing_model: 400,
  invalid_model: 400,
  invalid_form: 400,
  invalid_body: 400,
  invalid_timeout: 400,
  invalid_since: 400,
  invalid_logger: 400,
  invalid_query: 400,
  capture_not_found: 404,
  inflight_not_found: 404,
  websocket_unavailable: 400,
  websocket_upgrade_failed: 400,
  client_closed: 499,
  upstream_error: 502,
  upstream_timeout: 504,
  upstream_stalled: 504,
  invalid_keep_alive: 400,
  profile_not_found: 404,
  invalid_profile: 400,
};

/**
 * An error that knows its code (and so its status); thrown anywhere in a
 * handler, rendered by `errorResponse`. A hono `HTTPException`, so hono's own
 * helpers and ours meet in the same `onError`.
 */
export class HttpError extends HTTPException {
  readonly code: HttpErrorCode;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;
  constructor(code: HttpErrorCode, message: string, options: { retryAfter?: number; headers?: Record<string, string> } = {}) {
    // 499 is not in hono's status list; it is a status all the same.
    super(STATUS_OF[code] as ContentfulStatusCode, { message });
    this.name = "HttpError";
    this.code = code;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
  }
}

/** Turns a scheduler rejection into the HttpError with its status and `Retry-After`. */
export function fromRejection(r: Rejection): HttpError {
  return new HttpError(r.code, r.message, r.retryAfter === undefined ? {} : { retryAfter: r.retryAfter });
}

/** The code for an `HTTPException` thrown by hono itself (its status is all it carries). */
function codeOfStatus(status: number): HttpErrorCode {
  if (status === 401) return "invalid_api_key";
  if (status === 404) return "not_found";
  if (status === 413) return "request_too_large";
  if (status >= 500) return "internal";
  return "invalid_request";
}

/** Normalises anything thrown by a handler into an HttpError (unknown errors become 500). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof SchedulerError) return fromRejection(err.rejection);
  if (err instanceof HTTPException) return new HttpError(codeOfStatus(err.status), err.message);
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError("internal", `Cannot handle request: ${message}`);
}

/** OpenAI's `type` field for a status. */
export function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The error object as OpenAI renders it (also used inside SSE error events). */
export function errorBody(code: HttpErrorCode, message: string): { error: { message: string; type: string; code: string } } {
  return { error: { message, type: errorType(STATUS_OF[code]), code } };
}

type Format = "json" | "text" | "html";

/** Picks json, text or html from an Accept header by q-value; JSON unless text is preferred. */
export function preferredFormat(accept: string | null | undefined): Format {
  if (!accept) return "json";
  const entries = accept.split(",").map((part, index) => {
    const [type = "", ...params] = part.trim().toLowerCase().split(";");
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split("=");
      if (k === "q" && v !== undefined) q = Number.parseFloat(v) || 0;
    }
    return { type: type.trim(), q, index };
  });
  entries.sort((a, b) => b.q - a.q || a.index - b.index);
  for (const e of entries) {
    if (e.q <= 0) continue;
    if (e.type === "application/json" || e.type === "application/*" || e.type === "*/*" || e.type === "text/event-stream") return "json";
    if (e.type === "text/plain") return "text";
    if (e.type === "text/html") return "html";
  }
  return "json";
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Renders an error for a request, honouring its Accept header. */
export function errorResponse(err: unknown, accept?: string | null): Response {
  const e = toHttpError(err);
  const headers = new Headers(e.headers);
  if (e.retryAfter !== undefined) headers.set("Retry-After", String(Math.max(0, Math.ceil(e.retryAfter))));
  const format = preferredFormat(accept);
  switch (format) {
    case "json":
      headers.set("Content-Type", "application/json; charset=utf-8");
      return new Response(JSON.stringify(errorBody(e.code, e.message)), { status: e.status, headers });
    case "text":
      headers.set("Content-Type", "text/plain; charset=utf-8");
      return new Response(`${e.message}\n`, { status: e.status, headers });
    case "html": {
      headers.set("Content-Type", "text/html; charset=utf-8");
      const msg = escapeHtml(e.message);
      return new Response(`<!doctype html><html><head><title>${e.status}</title></head><body><h1>${e.status}</h1><p>${msg}</p></body></html>\n`, {
        status: e.status,
        headers,
      });
    }
    default: {
      const never: never = format;
      throw new TypeError(`Cannot render error: unknown format ${String(never)}`);
    }
  }
}

/**
 * The app's one `onError`: whatever a handler or middleware throws (an
 * HttpError, a scheduler rejection, hono's own HTTPException, a bug) becomes
 * the error response its Accept header asks for.
 */
export const renderError: ErrorHandler = (err, c) => errorResponse(err, c.req.header("accept"));

const encoder = new TextEncoder();

/**
 * One SSE event carrying the error, for ending a stream that already started.
 * Named `error` with `"type":"error"` so both SDKs raise it: the Anthropic SDK
 * skips unnamed events, and the OpenAI SDK throws on `event: error` too.
 */
export function sseErrorText(code: HttpErrorCode, message: string): string {
  return sseMessage("error", JSON.stringify({ type: "error", ...errorBody(code, message) }));
}

/**
 * The SSE error event for an upstream that answered an error status after a
 * loading stream had already sent 200: the upstream's own error object
 * (llama-server's `{"error":{"code":400,"message":…,"type":"invalid_request_error"}}`)
 * and its status, so the client learns what the model server said instead of
 * a modelswap `internal`. A body that is not such JSON is carried as the
 * message, under `upstream_error`.
 */
export function sseUpstreamErrorText(status: number, body: string): string {
  let error: unknown = null;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    const e = parsed?.error;
    if (typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string") error = e;
  } catch {
    // Not JSON: carried as text below.
  }
  error ??= { message: `Cannot stream response: upstream answered ${status}: ${body.slice(0, 500)}`, type: errorType(status), code: "upstream_error" };
  return sseMessage("error", JSON.stringify({ type: "error", status, error }));
}

/** `sseErrorText` as bytes, for a stream that relays upstream bytes. */
export function sseErrorEvent(code: HttpErrorCode, message: string): Uint8Array {
  return encoder.encode(sseErrorText(code, message));
}

