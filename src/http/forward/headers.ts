/**
 * Which headers cross the proxy in each direction.
 */

// RFC 9110's hop-by-hop fields: the pooled client's parser flags answers that have any.
import { CONNECTION_FIELDS as HOP_BY_HOP } from "../../lib/http1/response-parser.ts";

export interface RequestHeaderOptions {
  /** Drop the client's credentials (they were modelswap's own keys). */
  stripAuth: boolean;
  /** Peer key to send as `Authorization: Bearer` and `x-api-key`, or null. */
  peerKey: string | null;
  /** The body was rewritten: drop content-length (and a stale content-type for multipart). */
  bodyChanged: boolean;
}

/** Headers to send upstream for a client request. */
export function upstreamRequestHeaders(src: Headers, options: RequestHeaderOptions): Headers {
  const out = new Headers();
  const listed = connectionListed(src.get("connection"));
  for (const [k, v] of src) {
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key) || listed?.has(key) || key === "host") continue;
    if (options.bodyChanged && key === "content-length") continue;
    if (options.stripAuth && (key === "authorization" || key === "x-api-key")) continue;
    out.append(k, v);
  }
  if (options.peerKey !== null && options.peerKey !== "") {
    out.set("authorization", `Bearer ${options.peerKey}`);
    out.set("x-api-key", options.peerKey);
  }
  return out;
}

/** The lower-cased field names a `Connection` value lists (they are hop-by-hop too), or null for none but keep-alive/close. */
function connectionListed(connection: string | null): Set<string> | null {
  // Most peers send none, or just keep-alive or close (hop-by-hop anyway): no set to build then.
  if (connection === null) return null;
  const v = connection.toLowerCase();
  if (v === "keep-alive" || v === "close") return null;
  return new Set(v.split(",").map((s) => s.trim()).filter(Boolean));
}

/**
 * Headers to send to the client for an upstream response: all but the
 * hop-by-hop ones and those its `Connection` names. `own`: the answer's
 * fields with none of those among them, a Headers to change in place.
 */
export function clientResponseHeaders(src: Headers, own?: Headers): Headers {
  if (own !== undefined) {
    own.set("X-Accel-Buffering", "no");
    return own;
  }
  const out = new Headers();
  const listed = connectionListed(src.get("connection"));
  for (const [k, v] of src) {
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key) || listed?.has(key)) continue;
    out.append(k, v);
  }
  out.set("X-Accel-Buffering", "no");
  return out;
}

/** Whether a response is a server-sent event stream. */
export function isEventStream(headers: Headers): boolean {
  return (headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
}
