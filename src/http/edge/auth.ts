/**
 * API-key access control: Bearer, `x-api-key` or the password of Basic auth,
 * compared in constant time. Keys are never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** The key a request presents: Basic password, then Bearer, then x-api-key (llama-swap's order). */
export function presentedKey(headers: Headers): string {
  const auth = headers.get("authorization") ?? "";
  if (auth.startsWith("Basic ")) {
    try {
      const decoded = atob(auth.slice(6).trim());
      const colon = decoded.indexOf(":");
      if (colon >= 0 && colon < decoded.length - 1) return decoded.slice(colon + 1);
    } catch {
      // Malformed base64: fall through to the other headers.
    }
  }
  if (auth.startsWith("Bearer ")) {
    const bearer = auth.slice(7).trim();
    if (bearer !== "") return bearer;
  }
  return headers.get("x-api-key") ?? "";
}

/** Whether `key` is one of `keys`, comparing equal-length digests so timing leaks nothing. */
export function keyAccepted(key: string, keyDigests: Buffer[]): boolean {
  if (key === "") return false;
  const d = digest(key);
  let ok = false;
  for (const k of keyDigests) if (timingSafeEqual(d, k)) ok = true;
  return ok;
}

/** Paths that stay open when keys are configured. */
const OPEN_PATHS = new Set(["/health"]);

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

/** Answers every OPTIONS request with 204 and permissive CORS headers (llama-swap does the same). */
export function corsPreflight(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== "OPTIONS") return next();
    const headers = new Headers({
      "Access-Control-Allow-Origin": c.req.header("origin") ?? "*",
      "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "Access-Control-Allow-Headers":
        sanitizeHeaderList(c.req.header("access-control-request-headers")) ?? "Content-Type, Authorization, Accept, X-Requested-With",
      "Access-Control-Max-Age": "86400",
      Vary: "Origin",
    });
    return new Response(null, { status: 204, headers });
  };
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
