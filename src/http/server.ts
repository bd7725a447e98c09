/**
 * Binds the app to a socket with Bun.serve and shuts it down gracefully.
 *
 * Bun's outbound fetch runs at most 256 requests at once
 * (`BUN_CONFIG_MAX_HTTP_REQUESTS`), so the 257th open stream waits. Bun reads
 * it once at process start (measured on 1.4.5: setting `process.env` at
 * runtime changes nothing), so `src/main.ts` must, before anything else,
 * re-exec itself with the variable set (e.g. 65336) when it is unset.
 */
import type { Config } from "../config/types.ts";
import { createServed, JSON_ROUTE_PATHS, performanceMonitor } from "./app.ts";
import type { IdleTimeoutServer } from "./exchange.ts";
import { startIdleCollector } from "./idle-collect.ts";
import { RequestRegistry } from "./forward/requests.ts";
import type { AppDeps } from "./state.ts";
import { InflightTracker } from "./forward/inflight.ts";
import { deadline, poll } from "../lib/async.ts";
import { websocketBridge } from "./forward/websocket.ts";
import { readFileSync } from "node:fs";

/** The text of a PEM file, or an error that names the flag's file and why it cannot be read. */
function readPem(file: string, what: "certificate" | "key"): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new Error(`Cannot read the TLS ${what} ${file}: ${why}`);
  }
}

/** How long ended streams get to flush their last bytes before sockets are closed. */
const FLUSH_MS = 500;
/** A safety bound only: every ended response unwinds on its own (no client needed), so this is never reached unless one is broken. */
const UNWIND_MS = 10_000;

export interface HttpServer {
  url: string;
  port: number;
  /** Stop accepting; wait up to graceMs for in-flight requests; then end open streams with an SSE error event (or abort) and resolve. */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
  /** Serves new requests with `config` (names, filters, keys, routes); requests already running finish on the old one. */
  reload(config: Config): void;
}

/** PEM files for HTTPS (`--tls-cert-file`, `--tls-key-file`). */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Starts listening, over HTTPS when `tls` is given (why: one place owns idle timeouts, draining and the socket). */
export function startHttpServer(deps: AppDeps & { hostname: string; port: number; tls?: TlsFiles | null }): HttpServer {
  // Requests starting and proxied responses ending are activity: a quiet second after either collects
  // garbage, once nothing is in flight (never while a request waits for a model or a stream is open).
  const collector = startIdleCollector({ busy: () => inflight.size > 0 });
  const inflight: InflightTracker = new InflightTracker(collector.touch);
  // Kept across reloads: open requests stay cancellable, performance samples stay.
  const requests = new RequestRegistry();
  const performance = performanceMonitor(deps);
  let handle = createServed(deps, { inflight, requests, performance });
  // The JSON inference POSTs are matched natively by Bun (exact paths) and go straight to the one
  // endpoint hono also mounts: no hono routing, context or middleware on the hot path.
  const routes: Record<string, { POST: (req: Request, srv: IdleTimeoutServer) => Promise<Response> }> = {};
  for (const path of JSON_ROUTE_PATHS) {
    routes[path] = {
      POST: (req, srv) => {
        collector.touch();
        return handle.json(req, srv, path);
      },
    };
  }
  const server = Bun.serve({
    hostname: deps.hostname,
    port: deps.port,
    // Proxied requests lift this per request; it only bounds idle keep-alive sockets.
    idleTimeout: 30,
    routes,
    fetch: (req, srv) => {
      collector.touch();
      return handle.fetch(req, srv);
    },
    websocket: websocketBridge,
    // Read now, so a missing or unreadable file fails the start with its name rather than the first handshake.
    ...(deps.tls ? { tls: { cert: readPem(deps.tls.cert, "certificate"), key: readPem(deps.tls.key, "key") } } : {}),
  });
  const port = server.port ?? deps.port;
  const host = deps.hostname.includes(":") ? `[${deps.hostname}]` : deps.hostname;
  let stopped = false;
  return {
    url: `${deps.tls ? "https" : "http"}://${host}:${port}`,
    port,
    async drain(graceMs: number) {
      if (!stopped) {
        stopped = true;
        void server.stop(false);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        inflight.idle().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), Math.max(0, graceMs));
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        inflight.endAll("Cannot finish response: modelswap is shutting down");
        // First the ended responses produce their last bytes (an event, not a timer: on a loaded machine
        // the 503 of a body still being read took longer than FLUSH_MS and its socket was cut)...
        await deadline(inflight.idle(), UNWIND_MS).catch(() => {});
        // ...then those bytes get to leave before the sockets are cut (log streams never end on their own).
        await poll(() => (server.pendingRequests === 0 ? true : undefined), 5, { signal: AbortSignal.timeout(FLUSH_MS) }).catch(() => {});
      }
      await server.stop(true);
      collector.stop();
    },
    reload(config: Config) {
      handle = createServed({ ...deps, config }, { inflight, requests, performance });
    },
    async close() {
      stopped = true;
      performance.stop();
      collector.stop();
      inflight.endAll("Cannot finish response: modelswap is closing");
      await server.stop(true);
    },
  };
}
