/**
 * API-key access control: Bearer, `x-api-key` or the password of Basic auth,
 * compared in constant time. Keys are never logged.
 */
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";

// Bun's own SHA-256, not node:crypto: that module alone costs a Bun process 3.3 MB of RSS (serve idles 1.3 MB
// lower without it and node:url: bench/mem-idle.ts).
function digest(s: string): Uint8Array {
  return Bun.SHA256.hash(s) as Uint8Array;
}

/** Whether two digests are equal, reading every byte whatever the first difference (constant time). */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * The key a request presents: Basic password, then Bearer, then x-api-key
 * (llama-swap's order). Scheme names are case-insensitive (RFC 9110 §11.1):
 * `bearer KEY` and `BASIC …` count.
 */
export function presentedKey(headers: Headers): string {
  const auth = headers.get("authorization") ?? "";
  const scheme = /^(\S+)[ \t]+/.exec(auth);
  const name = scheme?.[1]?.toLowerCase();
  const param = scheme ? auth.slice(scheme[0].length).trim() : "";
  if (name === "basic") {
    try {
      const decoded = atob(param);
      const colon = decoded.indexOf(":");
      if (colon >= 0 && colon < decoded.length - 1) return decoded.slice(colon + 1);
    } catch {
      // Malformed base64: fall through to the other headers.
    }
  }
  if (name === "bearer" && param !== "") return param;
  return headers.get("x-api-key") ?? "";
}

/** Whether `key` is one of `keys`, comparing equal-length digests so timing leaks nothing. */
export function keyAccepted(key: string, keyDigests: Uint8Array[]): boolean {
  if (key === "") return false;
  const d = digest(key);
  let ok = false;
  for (const k of keyDigests) if (sameDigest(d, k)) ok = true;
  return ok;
}

/** Paths that stay open when keys are configured. */
const OPEN_PATHS = new Set(["/health", "/wol-health", "/favicon.ico"]);

/**
 * The key check for one request: throws 401 `invalid_api_key` unless `apiKeys`
 * is empty, the path is open, the method is OPTIONS, or a valid key is presented
 * (why one function: the hono middleware and the JSON inference endpoint, which
 * hono does not wrap, must check keys the same way).
 */
export function keyGuard(apiKeys: readonly string[]): ((method: string, path: string, headers: Headers) => void) | null {
  if (apiKeys.length === 0) return null;
  const digests = apiKeys.map(digest);
  return (method, path, headers) => {
    if (OPEN_PATHS.has(path) || method === "OPTIONS") return;
    if (!keyAccepted(presentedKey(headers), digests)) {
      throw new HttpError("invalid_api_key", "Cannot authorize request: invalid or missing API key", {
        headers: { "WWW-Authenticate": 'Basic realm="modelswap"' },
      });
    }
  };
}

/** Middleware rejecting requests without a valid key when `apiKeys` is non-empty (why: one check before any route). */
export function apiKeyAuth(apiKeys: string[]): MiddlewareHandler {
  const guard = keyGuard(apiKeys);
  return async (c, next) => {
    guard?.(c.req.method, c.req.path, c.req.raw.headers);
    return next();
  };
}

/**
 * Whether a browser page from `origin` may call modelswap: every origin when
 * `allowOrigins` is null (llama-swap's behaviour, which its users asked for),
 * else one the list names ("*" names all), or modelswap's own (the `/ui/`
 * page's requests carry its own origin).
 */
export function originAllowed(origin: string, allowOrigins: readonly string[] | null, host: string | undefined): boolean {
  if (allowOrigins === null || allowOrigins.includes("*") || allowOrigins.includes(origin)) return true;
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host.toLowerCase();
}

function refuseOrigin(origin: string): HttpError {
  return new HttpError("origin_not_allowed", `Cannot serve a page from origin '${origin}': it is not in cors.allowOrigins`);
}

/**
 * CORS. OPTIONS is answered with 204 and CORS headers, as llama-swap does.
 * With `cors.allowOrigins` set, a preflight or request whose `Origin` is not
 * allowed gets 403 (why refuse, not only omit headers: a page can send a
 * "simple" cross-origin POST without any preflight, and a key-less modelswap
 * would run it), and an allowed one gets `Access-Control-Allow-Origin` set
 * to exactly its origin on the response, whatever the model server sent.
 */
export function cors(allowOrigins: readonly string[] | null): MiddlewareHandler {
  const guard = originGuard(allowOrigins);
  return async (c, next) => {
    if (c.req.method !== "OPTIONS") {
      const decorate = guard?.(c.req.raw.headers);
      await next();
      if (decorate) c.res = decorate(c.res);
      return;
    }
    const origin = c.req.header("origin");
    if (allowOrigins !== null && origin !== undefined && !originAllowed(origin, allowOrigins, c.req.header("host"))) throw refuseOrigin(origin);
    const headers = new Headers({
      "Access-Control-Allow-Origin": origin ?? "*",
      "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "Access-Control-Allow-Headers":
        sanitizeHeaderList(c.req.header("access-control-request-headers")) ?? "Content-Type, Authorization, Accept, X-Requested-With",
      "Access-Control-Max-Age": "86400",
      Vary: "Origin",
    });
    return new Response(null, { status: 204, headers });
  };
}

/**
 * The origin check of a non-OPTIONS request under `cors.allowOrigins`: null
 * when no list is configured; else a check that throws 403 for an origin not
 * on it and returns what to add to the response (or null without `Origin`)
 * (why one function: the middleware and the JSON inference endpoint, which
 * hono does not wrap, must answer origins the same way).
 */
export function originGuard(allowOrigins: readonly string[] | null): ((headers: Headers) => ((res: Response) => Response) | null) | null {
  if (allowOrigins === null) return null;
  return (headers) => {
    const origin = headers.get("origin");
    if (origin === null) return null;
    if (!originAllowed(origin, allowOrigins, headers.get("host") ?? undefined)) throw refuseOrigin(origin);
    return (res) => withHeaders(res, { "Access-Control-Allow-Origin": origin, Vary: "Origin" });
  };
}

/** `res` with `set` applied (a copy when its headers are immutable, as a fetched response's are). */
function withHeaders(res: Response, set: Record<string, string>): Response {
  try {
    for (const [k, v] of Object.entries(set)) res.headers.set(k, v);
    return res;
  } catch {
    const headers = new Headers(res.headers);
    for (const [k, v] of Object.entries(set)) headers.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

/** Keeps only valid header-name tokens from a requested-headers list. */
function sanitizeHeaderList(value: string | undefined): string | null {
  if (!value) return null;
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(s));
  return names.length > 0 ? names.join(", ") : null;
}
