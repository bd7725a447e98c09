/**
 * The hono app: the JSON inference endpoint, then CORS preflight, API keys and
 * every other route family, with all errors rendered by `errorResponse`.
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { apiKeyAuth, cors } from "./edge/auth.ts";
import type { AppDeps, Front } from "./state.ts";
import { HttpError, renderError } from "./errors.ts";
import { exchangeOf, type IdleTimeoutServer } from "./exchange.ts";
import { InflightTracker } from "./forward/inflight.ts";
import { createProxyLogger, levelEnabled, type ProxyLogger } from "../observe/index.ts";
import { buildIndex } from "./resolve/targets.ts";
import { eventRoutes } from "./routes/events.ts";
import { profileRoutes } from "./routes/profiles.ts";
import { inferenceRoutes, JSON_MODEL_PATHS, jsonEndpoint, jsonRoutes, type JsonEndpoint } from "./routes/inference.ts";
import { logRoutes } from "./routes/logs.ts";
import { modelRoutes } from "./routes/models.ts";
import { testHookRoutes } from "./routes/test-hooks.ts";
import { upstreamRoutes } from "./routes/upstream.ts";
import { uiRoutes } from "./routes/ui.ts";
import { versionRoutes } from "./routes/version.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { systemRoutes } from "./routes/system.ts";
import { RequestRegistry } from "./forward/requests.ts";
import { logWhenSent, skipsLog } from "./request-log.ts";
import { MetricsHub } from "../metrics/index.ts";
import { PerformanceMonitor } from "../system/index.ts";
import { goDurationMs } from "../lib/duration.ts";

/** One proxy log line per request, llama-swap style; never headers, so never keys. */
function requestLog(log: ProxyLogger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    if (skipsLog(c.req.path)) return;
    c.res = logWhenSent(log, exchangeOf(c), c.res, started);
  };
}

export interface AppOptions {
  /** Shared with the server so a drain can see open proxied responses. */
  inflight?: InflightTracker;
  /** Shared with the server so a reload keeps requests cancellable. */
  requests?: RequestRegistry;
  /** Shared with the server so a reload keeps the samples. */
  performance?: PerformanceMonitor;
}

/** What `Bun.serve` calls for each request. */
export type ServeFetch = (req: Request, server: IdleTimeoutServer) => Response | Promise<Response>;

/**
 * The server's request handler: the hono app, which serves every route (the
 * JSON inference paths through the same `jsonEndpoint` that `Bun.serve`'s
 * routes call in `server.ts`).
 * @example
 * Bun.serve({ port: 0, fetch: createFetch(deps) });
 */
export function createFetch(deps: AppDeps, options: AppOptions = {}): ServeFetch {
  const { app } = build(deps, options);
  return (req, server) => app.fetch(req, { server });
}

/** What `server.ts` serves: hono's fetch for every route, and the JSON inference endpoint for `Bun.serve`'s routes. */
export interface Served {
  fetch: ServeFetch;
  json: JsonEndpoint;
}

/** The handlers `Bun.serve` needs for `deps` (why: `server.ts` rebuilds them on reload). */
export function createServed(deps: AppDeps, options: AppOptions = {}): Served {
  const { app, json } = build(deps, options);
  return { fetch: (req, server) => app.fetch(req, { server }), json };
}

/** The exact paths `Bun.serve` routes natively to the JSON inference endpoint. */
export const JSON_ROUTE_PATHS: readonly string[] = JSON_MODEL_PATHS;

/** Ends every open `/api/events` stream; returns how many. */
function dropAll(streams: Set<{ close(): void }>): number {
  const n = streams.size;
  for (const s of [...streams]) s.close();
  return n;
}

/** The `/api/performance` sampler for `deps` (started on first use). */
export function performanceMonitor(deps: AppDeps): PerformanceMonitor {
  const none = async () => ({ present: false, gpus: [] });
  return new PerformanceMonitor({ everyMs: goDurationMs(deps.config.performance.every), queryGpus: deps.queryGpus ?? none });
}

function build(deps: AppDeps, options: AppOptions): { app: Hono; front: Front; json: JsonEndpoint } {
  const log = createProxyLogger(deps.config, deps.logs);
  const front: Front = {
    deps, log, index: buildIndex(deps.config), inflight: options.inflight ?? new InflightTracker(), profile: null,
    metrics: deps.metrics ?? new MetricsHub(deps.config),
    requests: options.requests ?? new RequestRegistry(),
    performance: options.performance ?? performanceMonitor(deps),
    eventStreams: new Set(),
  };
  const json = jsonEndpoint(front);
  // hono's TrieRouter, not its default (a RegExpRouter built on the first request, TrieRouter as fallback), and
  // every route family registered on this one app instead of mounted with app.route (which registers each
  // route again): both made JavaScriptCore's optimizing compiler run during startup, and the pages of its
  // code stayed resident. Idle RSS 53.0 → 50.0 MB (3 interleaved runs each, bench/mem-idle.ts). The hot
  // JSON paths never reach this router (Bun.serve's routes), so its per-request matching is not on them.
  const app = new Hono({ router: new TrieRouter() });
  // First, before any middleware: hono runs only the endpoint for these paths (it writes its own
  // log line, checks origin and keys, renders errors), so they behave exactly as under Bun.serve's routes.
  jsonRoutes(app, json);
  // Filtered out (logLevel warn/error): no middleware at all, so no timing and no string building.
  if (levelEnabled(deps.config.logLevel, "info")) app.use(requestLog(log));
  app.use(cors(deps.config.cors.allowOrigins));
  // No keys configured: no middleware (it would only call next()).
  if (deps.config.apiKeys.length > 0) app.use(apiKeyAuth(deps.config.apiKeys));
  modelRoutes(app, front);
  inferenceRoutes(app, front);
  upstreamRoutes(app, front);
  logRoutes(app, deps);
  eventRoutes(app, deps, { activity: () => front.metrics.activity.all(), streams: front.eventStreams });
  profileRoutes(app, front);
  versionRoutes(app);
  metricsRoutes(app, front);
  systemRoutes(app, front);
  uiRoutes(app);
  if (deps.testHooks) testHookRoutes(app, deps, { dropEventStreams: () => dropAll(front.eventStreams) });
  app.notFound((c) => {
    throw new HttpError("not_found", `Cannot find route: ${c.req.method} ${c.req.path}`);
  });
  app.onError(renderError);
  return { app, front, json };
}
