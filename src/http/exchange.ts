/**
 * One client request as every handler sees it (`Exchange`), whether it came
 * through hono or `Bun.serve`'s routes (the JSON inference endpoint), and the per-request Bun knob a long
 * response needs (lifting the idle cut).
 */
import type { Context } from "hono";

/** The part of a Bun server a proxied request needs. */
export interface IdleTimeoutServer {
  timeout(req: Request, seconds: number): void;
  /** The client's socket address (Bun.serve has it; tests' fakes may not). */
  requestIP?(req: Request): { address: string } | null;
}

/**
 * One client request as the proxy path sees it: hono's Context, or the direct
 * routes of `server.ts`, both reduce to this (why: the hot path skips hono).
 */
export interface Exchange {
  readonly raw: Request;
  /** The URL path, as hono's `c.req.path` gives it. */
  readonly path: string;
  /** The Bun server, or undefined outside Bun.serve (`app.request` in tests). */
  readonly server: IdleTimeoutServer | undefined;
}

/** The Bun server of a hono request, or undefined outside `Bun.serve` (`app.request` in tests). */
export function serverOf(c: Context): IdleTimeoutServer | undefined {
  return bunServerOf<IdleTimeoutServer>(c);
}

/**
 * The `Bun.serve` server a hono request came through (hono's `env`), or
 * undefined when there is none (a test's `app.request`). What `getBunServer`
 * of `hono/bun` does, without loading that adapter's other modules (static
 * files, SSG, websockets: ~20 modules on the main thread for one line).
 */
export function bunServerOf<T>(c: Context): T | undefined {
  const env = c.env as unknown;
  if (typeof env !== "object" || env === null) return undefined;
  return ("server" in env ? (env as { server: unknown }).server : env) as T | undefined;
}

/** The exchange of a hono request. */
export function exchangeOf(c: Context): Exchange {
  return { raw: c.req.raw, path: c.req.path, server: serverOf(c) };
}

/** Lifts Bun's 10 s idle cut for this request (why: model loads and quiet streams are long). */
export function disableIdleTimeout(x: Exchange): void {
  x.server?.timeout(x.raw, 0);
}

/**
 * Lifts Bun's 10 s idle timeout for this request, so a quiet stream or a long
 * poll is not cut. A no-op outside `Bun.serve` (for example under `app.request`).
 */
export function keepOpen(c: Context): void {
  disableIdleTimeout(exchangeOf(c));
}
