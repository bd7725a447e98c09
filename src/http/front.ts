/**
 * What the HTTP front's own routes share: deps, the name index, the set of
 * open proxied responses, and the active profile.
 */
import type { Context } from "hono";
import { getBunServer } from "hono/bun";
import type { AppDeps } from "./deps.ts";
import type { InflightTracker } from "./inflight.ts";
import type { ModelIndex } from "./model-resolve.ts";
import type { ProxyLogger } from "./proxy-log.ts";

export interface Front {
  deps: AppDeps;
  log: ProxyLogger;
  index: ModelIndex;
  inflight: InflightTracker;
  /** Active profile id; none is active at start. */
  profile: string | null;
}

/** The part of a Bun server a proxied request needs. */
export interface IdleTimeoutServer {
  timeout(req: Request, seconds: number): void;
}

/**
 * One client request as the proxy path sees it: hono's Context, or the direct
 * dispatch of `app.ts`, both reduce to this (why: the hot path skips hono).
 */
export interface Exchange {
  readonly raw: Request;
  /** The URL path, as hono's `c.req.path` gives it. */
  readonly path: string;
  /** The Bun server, or undefined outside Bun.serve (`app.request` in tests). */
  readonly server: IdleTimeoutServer | undefined;
}

/** The exchange of a hono request. */
export function exchangeOf(c: Context): Exchange {
  let server: IdleTimeoutServer | undefined;
  try {
    server = getBunServer<IdleTimeoutServer>(c);
  } catch {
    // Not running under Bun.serve (app.request in tests).
  }
  return { raw: c.req.raw, path: c.req.path, server };
}

/** Lifts Bun's 10 s idle cut for this request (why: model loads and quiet streams are long). */
export function disableIdleTimeout(x: Exchange): void {
  x.server?.timeout(x.raw, 0);
}

/** Joins an upstream base URL with the client's path and query. */
export function upstreamUrl(base: string, path: string, search: string): string {
  return `${base.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}${search}`;
}

/** The `?…` part of a request URL, or "". */
export function searchOf(req: Request): string {
  const url = req.url;
  const q = url.indexOf("?");
  return q < 0 ? "" : url.slice(q);
}
