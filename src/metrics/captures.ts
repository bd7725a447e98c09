/**
 * Request/response captures for the Activity page (`/api/captures/:id`),
 * in llama-swap's `ReqRespCapture` shape (bodies base64, as Go encodes
 * `[]byte`), and what the store (`capture-store.ts`) keeps of each. The web
 * UI reads `Capture` from here too, so this file uses no server-only API.
 */

/** llama-swap's capture, as served. */
export interface Capture {
  id: number;
  req_path: string;
  req_headers: Record<string, string>;
  /** base64 */
  req_body: string;
  resp_headers: Record<string, string>;
  /** base64 */
  resp_body: string;
}

/** Header fields as the proxy saw them; redacted and copied into the store when a capture is kept. */
export type CapturedHeaders = Headers | Record<string, string>;

/** What the proxy hands over; bodies as bytes, encoded only when served. */
export interface CaptureInput {
  id: number;
  reqPath: string;
  reqHeaders: CapturedHeaders;
  reqBody: Uint8Array;
  respHeaders: CapturedHeaders;
  respBody: Uint8Array;
}

/** Headers whose values never reach a capture. */
const SECRET_NAMES = ["authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie", "api-key"];
const SECRET = new Set(SECRET_NAMES);

/** A header map with credentials replaced by `[REDACTED]`, as llama-swap does. */
export function redactHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [k, v] of entries) out[k] = SECRET.has(k.toLowerCase()) ? "[REDACTED]" : v;
  return out;
}

/**
 * `redactHeaders` for the store: `Headers.toJSON` (native, names lower-cased)
 * then the secret names replaced; ~1 µs for a request's two header sets.
 */
function redactedForStore(headers: CapturedHeaders): Record<string, string> {
  if (!(headers instanceof Headers)) return redactHeaders(headers);
  // Bun's Headers has toJSON; the web UI's type check (DOM types) does not know it.
  const out = (headers as Headers & { toJSON(): Record<string, string> }).toJSON();
  for (const name of SECRET_NAMES) if (out[name] !== undefined) out[name] = "[REDACTED]";
  return out;
}

/** The body is kept decoded, so its `content-encoding` would lie. */
function withoutEncoding(h: Record<string, string>): Record<string, string> {
  // Only when there is one: `delete` turns the object into a slow dictionary.
  if (h["content-encoding"] !== undefined) delete h["content-encoding"];
  return h;
}

const encoder = new TextEncoder();

/**
 * A capture's path and header fields as the store keeps them: UTF-8 bytes,
 * the fields (redacted here, so no credential is ever held; the response's
 * without `content-encoding`, as the body is kept decoded) as the JSON of
 * `[request fields, response fields]`.
 */
export function encodedHead(c: Pick<CaptureInput, "reqPath" | "reqHeaders" | "respHeaders">): { path: Uint8Array; headers: Uint8Array } {
  return {
    path: encoder.encode(c.reqPath),
    headers: encoder.encode(JSON.stringify([redactedForStore(c.reqHeaders), withoutEncoding(redactedForStore(c.respHeaders))])),
  };
}
