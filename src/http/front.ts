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

/** Lifts Bun's 10 s idle cut for this request (why: model loads and quiet streams are long). */
export function disableIdleTimeout(c: Context): void {
  try {
    getBunServer<{ timeout(req: Request, seconds: number): void }>(c)?.timeout(c.req.raw, 0);
  } catch {
    // Not running under Bun.serve (app.request in tests): nothing to lift.
  }
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
