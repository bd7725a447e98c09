/**
 * A modelswap with `--test-hooks` on a port the system picks, and the few
 * calls the test-hook e2e tests make against it, so each test reads as the
 * HTTP conversation a CI script would have.
 *
 * @example
 * ```ts
 * const { yaml, ports } = hooksConfig({ a: { ttl: 60 } });
 * const ms = await startWithHooks(tmp.write("a.yaml", yaml));
 * await ms.chat("a");
 * await ms.advance(60_000);
 * ```
 */
import type { SequencedEvent } from "../../src/observe/index.ts";
import { freePort, type Spawned, startModelswap } from "../helpers/processes.ts";

/** One model of a test config: fake-upstream `args`, or a whole `cmd`. */
export interface ModelSpec {
  args?: string;
  cmd?: string;
  ttl?: number;
}

/**
 * A config with one free port per model (`proxy` set explicitly, so a test
 * knows each model's port). Models are in no group: one runs at a time.
 */
export function hooksConfig(models: Record<string, ModelSpec>, global = "healthCheckTimeout: 15"): { yaml: string; ports: Record<string, number> } {
  const ports: Record<string, number> = {};
  let yaml = `${global}\nmodels:\n`;
  for (const [id, spec] of Object.entries(models)) {
    const port = freePort();
    ports[id] = port;
    const cmd = spec.cmd ?? `\${MODELSWAP} fake-upstream --port ${port} --model fake-${id} --tokens 1 --token-interval 0 ${spec.args ?? ""}`;
    yaml += `  ${id}:\n    cmd: ${cmd}\n    proxy: http://127.0.0.1:${port}\n`;
    if (spec.ttl !== undefined) yaml += `    ttl: ${spec.ttl}\n`;
  }
  return { yaml, ports };
}

export interface RunningRow {
  model: string;
  state: string;
  proxy: string;
}

/** A started modelswap and the calls a CI script makes. */
export interface Hooked {
  readonly base: string;
  readonly proc: Spawned;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST /v1/chat/completions for `model`. */
  chat(model: string, signal?: AbortSignal): Promise<Response>;
  /** POST /test/clock/advance; `timeout` is the settle wait (a duration). */
  advance(ms: number, timeout?: string): Promise<{ now: number; settled: boolean; pending?: string[] }>;
  /** GET /test/settle and its status. */
  settle(timeout?: string): Promise<{ status: number; body: { settled: boolean; pending?: string[] } }>;
  running(): Promise<RunningRow[]>;
  /** The current last sequence number. */
  lastSeq(): Promise<number>;
  /** Long-polls /test/events after `since` until an event matches; rejects after `timeoutMs`. */
  waitEvent(since: number, match: (e: SequencedEvent["event"]) => boolean, timeoutMs?: number): Promise<SequencedEvent>;
  /** Every buffered event after `since`, without waiting. */
  eventsSince(since: number): Promise<SequencedEvent[]>;
}

/** Starts `modelswap --test-hooks --listen 127.0.0.1:0` with `config` and resolves once it listens. */
export async function startWithHooks(config: string, args: string[] = ["--test-hooks"]): Promise<Hooked> {
  const proc = await startModelswap(["--config", config, ...args]);
  const base = proc.url;
  const call = (path: string, init?: RequestInit) => fetch(base + path, init);
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await call(path, init);
    if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const eventsSince = async (since: number, timeout = "0") =>
    (await json<{ events: SequencedEvent[] }>(`/test/events?since=${since}&timeout=${timeout}`)).events;
  return {
    base,
    proc,
    fetch: call,
    chat: (model, signal) =>
      call("/v1/chat/completions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
        ...(signal ? { signal } : {}),
      }),
    advance: (ms, timeout) =>
      json(`/test/clock/advance${timeout === undefined ? "" : `?timeout=${timeout}`}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ms }),
      }),
    async settle(timeout = "10s") {
      const res = await call(`/test/settle?timeout=${timeout}`);
      return { status: res.status, body: (await res.json()) as { settled: boolean; pending?: string[] } };
    },
    running: async () => (await json<{ running: RunningRow[] }>("/running")).running,
    lastSeq: async () => (await json<{ lastSeq: number }>("/test/events?since=0&timeout=0")).lastSeq,
    async waitEvent(since, match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let seen: SequencedEvent[] = [];
      for (let after = since; Date.now() < deadline; ) {
        const events = await eventsSince(after, `${Math.max(1, deadline - Date.now())}ms`);
        seen = [...seen, ...events];
        const hit = events.find((e) => match(e.event));
        if (hit) return hit;
        after = events.at(-1)?.seq ?? after;
      }
      throw new Error(`No matching event after seq ${since} within ${timeoutMs} ms; saw ${JSON.stringify(seen.map((e) => e.event))}`);
    },
    eventsSince: (since) => eventsSince(since),
  };
}

/** Matches `modelState` events of `model` entering `state`. */
export const becomes = (model: string, state: string) => (e: SequencedEvent["event"]) =>
  e.kind === "modelState" && e.model === model && e.state === state;
