/**
 * The request log line, llama-swap's access-log shape plus the model:
 * `Request 127.0.0.1 "POST /v1/chat/completions HTTP/1.1" 200 18342 "curl/8.5.0" 38.212s model=llama-8b`,
 * written when the last byte was sent (streams included), never headers or keys.
 * Proxied requests are logged by `forward/` when their activity record ends;
 * the app logs everything else (`deferredLog` tells them apart).
 */
import type { LogFields, ProxyLogger } from "../observe/index.ts";
import type { Exchange, IdleTimeoutServer } from "./exchange.ts";

/** Requests whose line `forward/` writes when their stream ends; the app's middleware skips them. */
export const deferredLog = new WeakSet<Request>();

/** Paths polled often enough to drown the log, skipped as llama-swap skips them. */
const SKIP = ["/wol-health", "/api/performance", "/metrics"];

/** Whether `path` gets no request line. */
export function skipsLog(path: string): boolean {
  return SKIP.some((p) => path.startsWith(p));
}

/** The client's address: X-Forwarded-For's first, X-Real-IP, else the socket's (llama-swap's order). */
export function clientAddress(req: Request, server: IdleTimeoutServer | undefined): string {
  const xff = req.headers.get("x-forwarded-for");
  if (xff) return xff.split(",")[0]!.trim();
  const real = req.headers.get("x-real-ip");
  if (real) return real.trim();
  try {
    return server?.requestIP?.(req)?.address ?? "-";
  } catch {
    return "-";
  }
}

/** A duration as Go prints one roughly: `850.3µs`, `12.4ms`, `38.212s`. */
export function goDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(1)}µs`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(3)}s`;
}

export interface RequestFacts {
  client: string;
  method: string;
  path: string;
  status: number;
  /** Body bytes sent, or null when not known. */
  bytes: number | null;
  userAgent: string;
  durationMs: number;
  model: string | null;
}

/**
 * Writes the line (at info; JSON fields for `logFormat: json`).
 *
 * @example
 * ```ts
 * logRequest(log, { client: "127.0.0.1", method: "GET", path: "/v1/models", status: 200, bytes: 120, userAgent: "curl", durationMs: 0.8, model: null });
 * ```
 */
export function logRequest(log: ProxyLogger, f: RequestFacts): void {
  const model = f.model === null ? "" : ` model=${f.model}`;
  const msg = `Request ${f.client} "${f.method} ${f.path} HTTP/1.1" ${f.status} ${f.bytes ?? "-"} "${f.userAgent}" ${goDuration(f.durationMs)}${model}`;
  // The model is in the message (llama-swap's line has no `[model]` tag in front) and, for JSON, a field.
  // The fields are built only for a JSON line: one per proxied request.
  const fields = () => {
    const o: LogFields = { client: f.client, method: f.method, path: f.path, status: f.status, bytes: f.bytes, durationMs: Math.round(f.durationMs * 10) / 10 };
    if (f.model !== null) o.model = f.model;
    return o;
  };
  log("info", msg, { event: "request", fields });
}

/**
 * `body` relayed unchanged, counting its bytes; `onEnd(bytes)` runs once when it ends, fails or is cancelled.
 * Only for modelswap's own long responses (`/api/events`, `/logs/stream`), never the proxied hot path.
 */
export function countingBody(body: ReadableStream<Uint8Array>, onEnd: (bytes: number) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd(bytes);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            c.close();
            end();
            return;
          }
          bytes += value.byteLength;
          c.enqueue(value);
        } catch (err) {
          c.error(err);
          end();
        }
      },
      cancel(reason) {
        end();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Writes the request line of a response modelswap answered itself: at once
 * when its size is known or it has no body, else (its own streams: events,
 * log streams) when its last byte was sent. Proxied requests are logged by
 * `forward/` when their activity record ends.
 */
export function logWhenSent(log: ProxyLogger, x: Exchange, res: Response, started: number): Response {
  if (deferredLog.has(x.raw)) return res;
  // Read now: once a long stream ends, the socket (and so its address) may be gone.
  const client = clientAddress(x.raw, x.server);
  const facts = (bytes: number | null) => ({
    client, method: x.raw.method, path: x.path, status: res.status, bytes,
    userAgent: x.raw.headers.get("user-agent") ?? "", durationMs: performance.now() - started, model: null,
  });
  const length = res.headers.get("content-length");
  if (res.body === null || length !== null || !/event-stream|text\/plain/.test(res.headers.get("content-type") ?? "")) {
    logRequest(log, facts(res.body === null ? 0 : length === null ? null : Number(length)));
    return res;
  }
  const body = countingBody(res.body, (bytes) => logRequest(log, facts(bytes)));
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
