/**
 * Which headers cross the proxy in each direction.
 */

/** RFC 9110 hop-by-hop headers, plus ones fetch recomputes itself. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

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
  const connection = src.get("connection");
  // Most clients send none, or just keep-alive (hop-by-hop anyway): no set to build then.
  const connectionListed =
    connection === null || connection.toLowerCase() === "keep-alive"
      ? null
      : new Set(connection.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
  for (const [k, v] of src) {
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key) || connectionListed?.has(key) || key === "host") continue;
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

/** Headers to send to the client for an upstream response. */
export function clientResponseHeaders(src: Headers): Headers {
  const out = new Headers();
  for (const [k, v] of src) {
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key)) continue;
    out.append(k, v);
  }
  out.set("X-Accel-Buffering", "no");
  return out;
}

/** Whether a response is a server-sent event stream. */
export function isEventStream(headers: Headers): boolean {
  return (headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
}
