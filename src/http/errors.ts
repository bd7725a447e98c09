/**
 * Every error response the HTTP front sends, built in one place.
 *
 * Clients of an OpenAI-compatible server expect `{"error":{"message","type","code"}}`;
 * a browser or curl that asks for text/plain or text/html gets that instead.
 */
import { SchedulerError } from "../scheduler/api.ts";
import type { Rejection } from "../scheduler/protocol.ts";
import { sseMessage } from "./stream/sse.ts";

/** An error that already knows its HTTP status; thrown anywhere in a handler, rendered by `errorResponse`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, options: { retryAfter?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
  }
}

/** Turns a scheduler rejection into the HttpError with its status and `Retry-After`. */
export function fromRejection(r: Rejection): HttpError {
  return new HttpError(r.status, r.code, r.message, r.retryAfter === undefined ? {} : { retryAfter: r.retryAfter });
}

/** Normalises anything thrown by a handler into an HttpError (unknown errors become 500). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof SchedulerError) return fromRejection(err.rejection);
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(500, "internal", `Cannot handle request: ${message}`);
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
export function errorBody(status: number, code: string, message: string): { error: { message: string; type: string; code: string } } {
  return { error: { message, type: errorType(status), code } };
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
      return new Response(JSON.stringify(errorBody(e.status, e.code, e.message)), { status: e.status, headers });
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

const encoder = new TextEncoder();

/**
 * One SSE event carrying the error, for ending a stream that already started.
 * Named `error` with `"type":"error"` so both SDKs raise it: the Anthropic SDK
 * skips unnamed events, and the OpenAI SDK throws on `event: error` too.
 */
export function sseErrorText(status: number, code: string, message: string): string {
  return sseMessage("error", JSON.stringify({ type: "error", ...errorBody(status, code, message) }));
}

/** `sseErrorText` as bytes, for a stream that relays upstream bytes. */
export function sseErrorEvent(status: number, code: string, message: string): Uint8Array {
  return encoder.encode(sseErrorText(status, code, message));
}

