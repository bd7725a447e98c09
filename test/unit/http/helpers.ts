/**
 * Shared pieces for HTTP tests: the front wired as `cli/serve.ts` wires it
 * (real hubs, the real scheduler client and runner over fake processes),
 * requests through `createFetch` (the handler `Bun.serve` gets), and a real
 * in-process upstream server that records what it received and streams on command.
 */
import { afterEach } from "bun:test";
import type { Config } from "../../../src/config/types.ts";
import { type AppDeps, createFetch, type HttpServer, type ServeFetch, startHttpServer } from "../../../src/http/index.ts";
import { createEventHub, createLogHub } from "../../../src/observe/index.ts";
import { testConfig as sharedTestConfig } from "../../helpers/config-fixture.ts";
import { LiveScheduler } from "./live-scheduler.ts";

export type LiveDeps = AppDeps & { scheduler: LiveScheduler };

/**
 * Deps as `cli/serve.ts` builds them, around a `LiveScheduler` (each model's
 * `proxy` is where its lease points). `autoReady` false: started models stay
 * `starting` until the test says.
 */
export function makeDeps(config: Config, options: { testHooks?: boolean; autoReady?: boolean } = {}): LiveDeps {
  const scheduler = new LiveScheduler(config, options.autoReady ?? true);
  return { config, scheduler, logs: createLogHub(config, () => {}), events: createEventHub(), testHooks: options.testHooks ?? false };
}

/** `config` with every model's server at `url` (what a lease on any of them points to). */
export function servedBy(config: Config, url: string): Config {
  const models = Object.fromEntries(Object.entries(config.models).map(([id, m]) => [id, { ...m, proxy: url }]));
  return { ...config, models };
}

/** Not a Bun server: the front only lifts idle timeouts through it, which in-process requests do not have. */
const NO_SERVER: Parameters<ServeFetch>[1] = { timeout() {} };

/**
 * Requests to the handler production serves, in process (like hono's `app.request`).
 *
 * @example
 * ```ts
 * const request = serve(makeDeps(config));
 * const res = await request("/v1/models");
 * ```
 */
export function serve(deps: AppDeps): (path: string, init?: RequestInit) => Promise<Response> {
  const handle = createFetch(deps);
  return async (path, init) => handle(new Request(`http://localhost${path}`, init), NO_SERVER);
}

/** A config with models `llama` (alias `gpt-4o`) and `author/qwen`, quiet stdout and no timestamps. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return sharedTestConfig({ llama: { aliases: ["gpt-4o"], proxy: "http://127.0.0.1:1" }, "author/qwen": { proxy: "http://127.0.0.1:1" } }, { shutdownTimeout: 10, ...overrides });
}

/** Deps wired like main.ts does (real hubs, test hooks on) for `testConfig(overrides)`. */
export function testDeps(overrides: Partial<Config> = {}, autoReady = true): LiveDeps {
  return makeDeps(testConfig(overrides), { testHooks: true, autoReady });
}

/** The SSE comment every `/stream` response starts with. */
export const OPENING = ": open\n\n";

export interface Received {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  body: Uint8Array;
}

/** A live stream the test feeds chunk by chunk. */
export interface Feed {
  push(text: string): void;
  end(): void;
  fail(): void;
  /** performance.now() when the upstream saw its client go away, or null. */
  abortedAt: number | null;
}

export interface Upstream {
  url: string;
  received: Received[];
  /** Streams opened on `/stream` paths, in arrival order. */
  feeds: Feed[];
  stop(): Promise<void>;
}

/** Fronts `listen` started, closed after each test. */
const listening = new Set<HttpServer>();
afterEach(async () => {
  for (const s of listening) await s.close();
  listening.clear();
});

/** The front for `deps` on a real socket (127.0.0.1, any port), as `cli/serve.ts` serves it; closed after the test. */
export function listen(deps: AppDeps): HttpServer {
  const server = startHttpServer({ ...deps, hostname: "127.0.0.1", port: 0 });
  listening.add(server);
  return server;
}

/**
 * Starts an upstream on port 0. `/stream…` answers an SSE stream fed by the
 * test, `/hang…` never answers; anything else echoes `{method, path, body}` as JSON.
 */
export function startUpstream(): Upstream {
  const received: Received[] = [];
  const feeds: Feed[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = new Uint8Array(await req.arrayBuffer());
      received.push({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, body });
      if (url.pathname.includes("/hang")) {
        // Never answers; ends when the client goes away.
        await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve(), { once: true }));
        return new Response("too late");
      }
      if (url.pathname.includes("/stream")) {
        const enc = new TextEncoder();
        let ctrl: ReadableStreamDefaultController<Uint8Array> | null = null;
        const feed: Feed = {
          abortedAt: null,
          push: (t) => ctrl?.enqueue(enc.encode(t)),
          end: () => ctrl?.close(),
          fail: () => ctrl?.error(new Error("upstream died")),
        };
        req.signal.addEventListener("abort", () => {
          feed.abortedAt ??= performance.now();
        });
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            ctrl = c;
            // Bun.serve sends no headers before the first chunk: open with a comment.
            c.enqueue(enc.encode(OPENING));
            feeds.push(feed);
          },
          cancel() {
            feed.abortedAt ??= performance.now();
          },
        });
        return new Response(stream, { headers: { "Content-Type": "text/event-stream" } });
      }
      return Response.json({ method: req.method, path: url.pathname, search: url.search, body: new TextDecoder().decode(body) });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    feeds,
    stop: () => server.stop(true),
  };
}

/** JSON POST init. */
export function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) };
}
