/**
 * The proxy log line of one request, llama-swap style
 * (`Request "POST /v1/chat/completions" 200 1.2ms`); never headers, so never keys.
 */
import type { MiddlewareHandler } from "hono";
import type { ProxyLogger } from "../observe/index.ts";

/** Writes the request log line (why one function: the hono middleware and the JSON endpoint write the same line). */
export function logRequest(log: ProxyLogger, method: string, path: string, status: number, started: number): void {
  log("info", `Request "${method} ${path}" ${status} ${(performance.now() - started).toFixed(1)}ms`);
}

/** The middleware writing one line per request that hono dispatches. */
export function requestLog(log: ProxyLogger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    logRequest(log, c.req.method, c.req.path, c.res.status, started);
  };
}
