/**
 * Shared pieces for HTTP tests: deps with inert hubs, and a real in-process
 * upstream server that records what it received and streams on command.
 */
import type { Config } from "../../../src/config/types.ts";
import type { AppDeps } from "../../../src/http/state.ts";
import type { EventHub, LogHub, SequencedEvent } from "../../../src/observe/index.ts";
import { createEventHub } from "../../../src/observe/event-hub.ts";
import { createLogHub } from "../../../src/observe/log-hub.ts";
import { testConfig as sharedTestConfig } from "../../helpers/config-fixture.ts";
import { FakeScheduler } from "./fake-scheduler.ts";

/** Hubs that keep nothing (the HTTP front's own routes do not need them). */
export function inertHubs(): { logs: LogHub; events: EventHub } {
  let seq = 0;
  const logs: LogHub = { append() {}, write() {}, history: () => [], subscribe: () => () => {} };
  const events: EventHub = {
    publish(event) {
      const e: SequencedEvent = { seq: ++seq, time: Date.now(), event };
      return e;
    },
    since: () => [],
    subscribe: () => () => {},
    get lastSeq() {
      return seq;
    },
  };
  return { logs, events };
}

export function makeDeps(config: Config, scheduler = new FakeScheduler()): AppDeps & { scheduler: FakeScheduler } {
  return { config, scheduler, ...inertHubs(), testHooks: false };
}

/** A config with models `llama` (alias `gpt-4o`) and `author/qwen`, quiet stdout and no timestamps. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return sharedTestConfig({ llama: { aliases: ["gpt-4o"], proxy: "http://127.0.0.1:1" }, "author/qwen": { proxy: "http://127.0.0.1:1" } }, { shutdownTimeout: 10, ...overrides });
}

/** Deps wired like main.ts does (real hubs, test hooks on), around a FakeScheduler. */
export function testDeps(overrides: Partial<Config> = {}): AppDeps & { scheduler: FakeScheduler } {
  const config = testConfig(overrides);
  return { config, scheduler: new FakeScheduler(), logs: createLogHub(config, () => {}), events: createEventHub(), testHooks: true };
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
