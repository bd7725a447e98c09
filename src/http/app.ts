/**
 * The hono app: CORS preflight, API keys, then every route family, with all
 * errors rendered by `errorResponse` in one place.
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { apiKeyAuth, corsPreflight } from "./auth.ts";
import type { AppDeps } from "./deps.ts";
import { errorResponse, HttpError } from "./errors.ts";
import type { Front } from "./front.ts";
import { InflightTracker } from "./inflight.ts";
import { createProxyLogger, levelEnabled, type ProxyLogger } from "./proxy-log.ts";
import { buildIndex } from "./model-resolve.ts";
import { eventRoutes } from "./routes/events.ts";
import { inferenceRoutes } from "./routes/inference.ts";
import { logRoutes } from "./routes/logs.ts";
import { modelRoutes } from "./routes/models.ts";
import { testHookRoutes } from "./routes/test-hooks.ts";
import { upstreamRoutes } from "./routes/upstream.ts";

/** One proxy log line per request, llama-swap style; never headers, so never keys. */
function requestLog(log: ProxyLogger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const ms = (performance.now() - started).toFixed(1);
    log("info", `Request "${c.req.method} ${c.req.path}" ${c.res.status} ${ms}ms`);
  };
}

export interface AppOptions {
  /** Shared with the server so a drain can see open proxied responses. */
  inflight?: InflightTracker;
}

/**
 * Builds the whole HTTP front for `deps` (why: the composition root and the tests build it the same way).
 * @example
 * const app = createApp({ config, scheduler, logs, events, testHooks: false });
 * const res = await app.request("/health");
 */
export function createApp(deps: AppDeps, options: AppOptions = {}): Hono {
  const log = createProxyLogger(deps.config, deps.logs);
  const front: Front = { deps, log, index: buildIndex(deps.config), inflight: options.inflight ?? new InflightTracker(), profile: null };
  const app = new Hono();
  // Filtered out (logLevel warn/error): no middleware at all, so no timing and no string building.
  if (levelEnabled(deps.config.logLevel, "info")) app.use(requestLog(log));
  app.use(corsPreflight());
  // No keys configured: no middleware (it would only call next()).
  if (deps.config.apiKeys.length > 0) app.use(apiKeyAuth(deps.config.apiKeys));
  app.route("/", modelRoutes(front));
  app.route("/", inferenceRoutes(front));
  app.route("/", upstreamRoutes(front));
  app.route("/", logRoutes(deps));
  app.route("/", eventRoutes(deps));
  if (deps.testHooks) app.route("/", testHookRoutes(deps));
  app.notFound((c) => errorResponse(new HttpError(404, "not_found", `Cannot find route: ${c.req.method} ${c.req.path}`), c.req.header("accept")));
  app.onError((err, c) => errorResponse(err, c.req.header("accept")));
  return app;
}
