/**
 * The hono app: CORS preflight, API keys, then every route family, with all
 * errors rendered by `errorResponse` in one place.
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { apiKeyAuth, cors } from "./edge/auth.ts";
import type { AppDeps, Front } from "./state.ts";
import { errorResponse, HttpError, renderError } from "./errors.ts";
import { type Exchange, exchangeOf, type IdleTimeoutServer } from "./exchange.ts";
import { InflightTracker } from "./forward/inflight.ts";
import { createProxyLogger, levelEnabled, type ProxyLogger } from "../observe/index.ts";
import { buildIndex } from "./resolve/targets.ts";
import { eventRoutes } from "./routes/events.ts";
import { profileRoutes } from "./routes/profiles.ts";
import { handleJson, inferenceRoutes, JSON_MODEL_PATHS } from "./routes/inference.ts";
import { logRoutes } from "./routes/logs.ts";
import { modelRoutes } from "./routes/models.ts";
import { testHookRoutes } from "./routes/test-hooks.ts";
import { upstreamRoutes } from "./routes/upstream.ts";
import { uiRoutes } from "./routes/ui.ts";
import { versionRoutes } from "./routes/version.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { systemRoutes } from "./routes/system.ts";
import { RequestRegistry } from "./forward/requests.ts";
import { clientAddress, countingBody, deferredLog, logRequest, skipsLog } from "./request-log.ts";
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

/**
 * Writes the request line of a response modelswap answered itself: at once
 * when its size is known or it has no body, else (its own streams: events,
 * log streams) when its last byte was sent. Proxied requests are logged by
 * `forward/` when their activity record ends.
 */
function logWhenSent(log: ProxyLogger, x: Exchange, res: Response, started: number): Response {
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
 * The server's request handler: the hono app, except that a POST to a JSON
 * inference path skips hono when no API keys are configured (why: hono's
 * routing, context and middleware chain cost ~5% of a proxied request's CPU;
 * the direct path does exactly what the hono route does: log line, handler,
 * `errorResponse` for errors).
 * @example
 * Bun.serve({ port: 0, fetch: createFetch(deps) });
 */
export function createFetch(deps: AppDeps, options: AppOptions = {}): ServeFetch {
  const { app, front } = build(deps, options);
  // With keys or an origin list, their middleware must run: everything goes through hono.
  const direct = deps.config.apiKeys.length === 0 && deps.config.cors.allowOrigins === null ? new Set<string>(JSON_MODEL_PATHS) : null;
  const logged = levelEnabled(deps.config.logLevel, "info");
  return (req, server) => {
    if (direct !== null && req.method === "POST") {
      const path = plainPath(req.url);
      if (path !== null && direct.has(path)) return directJson({ raw: req, path, server }, front, logged);
    }
    return app.fetch(req, { server });
  };
}

/** The hono route's behaviour for a JSON inference POST, without hono. */
async function directJson(x: Exchange, front: Front, logged: boolean): Promise<Response> {
  const started = logged ? performance.now() : 0;
  let res: Response;
  try {
    res = await handleJson(x, front);
  } catch (err) {
    res = errorResponse(err, x.raw.headers.get("accept"));
  }
  return logged ? logWhenSent(front.log, x, res, started) : res;
}

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

/** The path of a URL when it needs no decoding (hono's `getPath` returns it unchanged), else null. */
function plainPath(url: string): string | null {
  const start = url.indexOf("/", url.indexOf(":") + 4);
  if (start < 0) return null;
  let i = start;
  for (; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 37) return null; // '%': leave decoding to hono
    if (ch === 63 || ch === 35) break; // '?' or '#'
  }
  return url.slice(start, i);
}

function build(deps: AppDeps, options: AppOptions): { app: Hono; front: Front } {
  const log = createProxyLogger(deps.config, deps.logs);
  const front: Front = {
    deps, log, index: buildIndex(deps.config), inflight: options.inflight ?? new InflightTracker(), profile: null,
    metrics: deps.metrics ?? new MetricsHub(deps.config),
    requests: options.requests ?? new RequestRegistry(),
    performance: options.performance ?? performanceMonitor(deps),
    eventStreams: new Set(),
  };
  const app = new Hono();
  // Filtered out (logLevel warn/error): no middleware at all, so no timing and no string building.
  if (levelEnabled(deps.config.logLevel, "info")) app.use(requestLog(log));
  app.use(cors(deps.config.cors.allowOrigins));
  // No keys configured: no middleware (it would only call next()).
  if (deps.config.apiKeys.length > 0) app.use(apiKeyAuth(deps.config.apiKeys));
  app.route("/", modelRoutes(front));
  app.route("/", inferenceRoutes(front));
  app.route("/", upstreamRoutes(front));
  app.route("/", logRoutes(deps));
  app.route("/", eventRoutes(deps, { activity: () => front.metrics.activity.all(), streams: front.eventStreams }));
  app.route("/", profileRoutes(front));
  app.route("/", versionRoutes());
  app.route("/", metricsRoutes(front));
  app.route("/", systemRoutes(front));
  app.route("/", uiRoutes());
  if (deps.testHooks) app.route("/", testHookRoutes(deps, { dropEventStreams: () => dropAll(front.eventStreams) }));
  app.notFound((c) => {
    throw new HttpError("not_found", `Cannot find route: ${c.req.method} ${c.req.path}`);
  });
  app.onError(renderError);
  return { app, front };
}
