/**
 * Shared harness of the `swap-*.test.ts` files: one real `modelswap serve`
 * (from source) over a YAML config of fake-upstream models, with the test
 * hooks' event stream, settle and clock, and /proc checks that a model's
 * process group is gone.
 *
 * @example
 * ```ts
 * const ms = await startSwapServer(tmp, { models: { a: "--tokens 3" } });
 * const res = await ms.chat("a");
 * await ms.shutdown();
 * ```
 */
import { expect } from "bun:test";
import type { SequencedEvent } from "../../src/observe/index.ts";
import type { ModelState } from "../../src/scheduler/protocol.ts";
import { poll } from "../../src/lib/async.ts";
import { groupMembers, readProcStat } from "../../src/supervisor/process-tree.ts";
import type { tempDir } from "../helpers/configs.ts";
import { postChat } from "../helpers/chat.ts";
import { cleanupProcesses, findPids, freePortRange, type Spawned, startModelswap, waitGone } from "../helpers/processes.ts";
export { freePortRange, groupMembers };

/** A model: fake-upstream arguments, or a full `cmd` plus extra YAML lines (indented under the model). */
export type ModelSpec = string | { cmd?: string; args?: string; yaml?: string };

export interface SwapServerOptions {
  models: Record<string, ModelSpec>;
  /** Extra top-level YAML (groups, shutdownTimeout…). */
  top?: string;
  /** `--test-hooks` (manual clock). Default true. */
  hooks?: boolean;
}

export interface SwapServer {
  readonly proc: Spawned;
  readonly url: string;
  /** The port `${PORT}` gives `model` (sorted-id order from startPort). */
  port(model: string): number;
  /** Live pids whose command line names this model's port (wrappers and their children too). */
  pids(model: string): number[];
  /** Waits until `model` has a live process and resolves with its process group. */
  group(model: string): Promise<number>;
  /** Live pids of every model of this server. */
  allModelPids(): number[];
  chat(model: string, init?: { stream?: boolean; signal?: AbortSignal; tokens?: number }): Promise<Response>;
  /** Events after `since`, waiting up to `timeoutMs` for the first one. */
  events(since?: number, timeoutMs?: number): Promise<SequencedEvent[]>;
  lastSeq(): Promise<number>;
  /** Resolves with the first event after `since` matching `pred`. */
  waitEvent(pred: (e: SequencedEvent["event"]) => boolean, since?: number, timeoutMs?: number): Promise<SequencedEvent>;
  /** modelState transitions of `model` to `state` after `since`. */
  transitions(model: string, state: ModelState, since?: number): Promise<number>;
  settle(): Promise<void>;
  /** Moves the manual clock; resolves once its immediate consequences reached the core. */
  advance(ms: number): Promise<void>;
  unload(model?: string): Promise<void>;
  /** SIGTERM, expect exit 0, and prove every model process is gone. */
  shutdown(): Promise<void>;
}

/** The fake upstream as a model `cmd`. */
export const fake = (args: string): string => `\${MODELSWAP} fake-upstream --port \${PORT} ${args}`;

/** Writes the config, starts serve on a free loopback port and waits until it listens. */
export async function startSwapServer(tmp: ReturnType<typeof tempDir>, options: SwapServerOptions): Promise<SwapServer> {
  const ids = Object.keys(options.models).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const startPort = freePortRange(ids.length);
  const lines = [`startPort: ${startPort}`, "healthCheckTimeout: 15", "models:"];
  for (const id of ids) {
    const spec = options.models[id]!;
    const s = typeof spec === "string" ? { args: spec } : spec;
    lines.push(`  ${id}:`, `    cmd: ${s.cmd ?? fake(s.args ?? "")}`);
    if (s.yaml) lines.push(...s.yaml.trim().split("\n").map((l) => `    ${l}`));
  }
  if (options.top) lines.push(options.top);
  const file = tmp.write(`swap-${startPort}.yaml`, `${lines.join("\n")}\n`);
  const hooks = options.hooks ?? true;
  const proc = await startModelswap([
    "--config", file,
    "--state-dir", `${tmp.path}/state-${startPort}`,
    ...(hooks ? ["--test-hooks"] : []),
  ]);
  const { url } = proc;
  const port = (model: string) => {
    const i = ids.indexOf(model);
    if (i < 0) throw new TypeError(`Cannot find model: '${model}' is not in this config`);
    return startPort + i;
  };
  const pids = (model: string) => findPids(`--port ${port(model)} `);
  const events = async (since = 0, timeoutMs = 0) => {
    const res = await fetch(`${url}/test/events?since=${since}&timeout=${timeoutMs}ms`);
    return ((await res.json()) as { events: SequencedEvent[] }).events;
  };
  const server: SwapServer = {
    proc,
    url,
    port,
    pids,
    group: async (model) => pgidOf(await poll(() => pids(model)[0], 10, { signal: AbortSignal.timeout(10_000) }))!,
    allModelPids: () => ids.flatMap(pids),
    chat: (model, init = {}) =>
      postChat(url, model, { stream: init.stream ?? false, body: { max_tokens: init.tokens }, ...(init.signal ? { signal: init.signal } : {}) }),
    events,
    async lastSeq() {
      const res = await fetch(`${url}/test/events?since=${Number.MAX_SAFE_INTEGER}&timeout=0ms`);
      return ((await res.json()) as { lastSeq: number }).lastSeq;
    },
    async waitEvent(pred, since = 0, timeoutMs = 15_000) {
      const signal = AbortSignal.timeout(timeoutMs);
      let cursor = since;
      while (!signal.aborted) {
        for (const e of await events(cursor, 1000)) {
          cursor = e.seq;
          if (pred(e.event)) return e;
        }
      }
      throw new Error(`Timed out after ${timeoutMs} ms waiting for an event after seq ${since}: ${proc.stdout()}${proc.stderr()}`);
    },
    async transitions(model, state, since = 0) {
      const all = await events(since);
      return all.filter((e) => e.event.kind === "modelState" && e.event.model === model && e.event.state === state).length;
    },
    async settle() {
      const res = await fetch(`${url}/test/settle?timeout=15s`);
      expect(res.status).toBe(200);
    },
    async advance(ms) {
      // timeout=0: do not wait for real-time work (a start polling health) to settle; tests wait on events.
      const res = await fetch(`${url}/test/clock/advance?timeout=0ms`, { method: "POST", body: JSON.stringify({ ms }) });
      expect(res.status).toBe(200);
    },
    async unload(model) {
      const res = await fetch(model ? `${url}/api/models/unload/${model}` : `${url}/api/models/unload`, { method: "POST" });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    },
    async shutdown() {
      const left = server.allModelPids();
      proc.proc.kill("SIGTERM");
      expect(await proc.waitForExit(20_000)).toBe(0);
      for (const pid of left) expect(groupMembers(pid)).toEqual([]);
      expect(server.allModelPids()).toEqual([]);
    },
  };
  servers.add(server);
  return server;
}

const servers = new Set<SwapServer>();

/**
 * `cleanupProcesses()`, then SIGKILLs any model process of a server started
 * here that is still alive (a forked child of a SIGKILLed modelswap has no
 * parent-death signal), and waits until each is gone.
 */
export async function cleanupSwapServers(): Promise<void> {
  await cleanupProcesses();
  const left = [...servers].flatMap((s) => s.allModelPids());
  servers.clear();
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await Promise.all(left.map((pid) => waitGone(pid)));
}

/**
 * The `afterAll` of a file with one shared server: shut `ms` down (proving
 * its models gone), then clean up whatever is left and remove `tmp`.
 */
export async function finishSwapFile(ms: SwapServer | undefined, tmp: ReturnType<typeof tempDir>): Promise<void> {
  try {
    await ms?.shutdown();
  } finally {
    await cleanupSwapServers();
    tmp.remove();
  }
}

/** The process group of `pid`, or null when it is gone. */
export function pgidOf(pid: number): number | null {
  return readProcStat(pid)?.pgrp ?? null;
}

/** Resolves once no live process is left in group `pgid`. */
export async function waitGroupGone(pgid: number, timeoutMs = 10_000): Promise<void> {
  await poll(() => (groupMembers(pgid).length === 0 ? true : undefined), 10, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => {
    throw new Error(`Process group ${pgid} still has members after ${timeoutMs} ms: ${groupMembers(pgid).join(", ")}`);
  });
}

/** Reads a streamed response to its end, collecting each read separately (a reset shows as `error`). */
export async function readChunks(res: Response): Promise<{ chunks: string[]; text: string; error: string | null }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value, { stream: true }));
    }
    return { chunks, text: chunks.join(""), error: null };
  } catch (error) {
    return { chunks, text: chunks.join(""), error: error instanceof Error ? error.message : String(error) };
  }
}

/** The `data:` of the last SSE event in `text`, parsed (an error event carries `error: {code, message}`). */
export function lastEventData(text: string): { error?: { code: string; message: string; type: string } } {
  const frame = text.trim().split("\n\n").at(-1) ?? "";
  const data = frame.split("\n").find((l) => l.startsWith("data: "));
  if (data === undefined) throw new Error(`Cannot find a data line in the last SSE event: ${frame}`);
  return JSON.parse(data.slice("data: ".length)) as { error?: { code: string; message: string; type: string } };
}

/** Opens a stream and resolves once its first content token arrived; `rest` reads the remainder. */
export async function openStream(res: Response): Promise<{ head: string; rest: Promise<{ text: string; error: string | null }> }> {
  // The body says why (start_failed with the server's last lines, upstream_error, ...).
  if (res.status !== 200) expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: expect.any(String) });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let head = "";
  while (!head.includes('"content"')) {
    const r = await reader.read();
    if (r.done) throw new Error(`Stream ended before its first token: ${head}`);
    head += decoder.decode(r.value, { stream: true });
  }
  const rest = (async () => {
    let text = head;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { text, error: null };
        text += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      return { text, error: error instanceof Error ? error.message : String(error) };
    }
  })();
  return { head, rest };
}
