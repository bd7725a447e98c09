/**
 * Real-process helpers for e2e tests: spawn modelswap (from source or the
 * compiled binary) and the fake upstream, wait for output, URLs and ports
 * with deadlines, and prove a process is gone.
 *
 * Every process started here is tracked; call `cleanupProcesses()` in
 * `afterEach`/`afterAll` so nothing outlives its test, even on failure.
 *
 * @example
 * ```ts
 * afterEach(cleanupProcesses);
 * const up = await startFakeUpstreamProcess(["--tokens", "3"]);
 * const res = await fetch(`${up.url}/v1/models`);
 * await up.stop();
 * ```
 */
import type { Subprocess } from "bun";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { delay, poll } from "../../src/lib/async.ts";
import { readProcStat } from "../../src/supervisor/process-tree.ts";
import { SITE_MARK } from "./test-marks.ts";

/** Absolute path of the repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
/** The bun running the tests. */
export const BUN = process.execPath;
/** `src/main.ts`, run with BUN from source. */
export const MAIN_TS = `${REPO_ROOT}/src/main.ts`;
/** The compiled binary under test: `$MODELSWAP_BINARY` when set (a prebuilt one), else where `bun scripts/build.ts` writes it. */
export const BINARY = process.env.MODELSWAP_BINARY ?? `${REPO_ROOT}/dist/modelswap`;

/** A started process with its combined output captured. */
export interface Spawned {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly pid: number;
  /** Resolves when both output pipes have closed (all output captured). */
  readonly outputClosed: Promise<void>;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `re` in stdout+stderr; rejects after `timeoutMs` with the output so far. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (128+n when killed by signal n). */
  waitForExit(timeoutMs?: number): Promise<number>;
  /** SIGTERM, SIGKILL after `graceMs`, then waits until the pid is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Spawned>();

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** Starts `argv` with piped output, tracked for `cleanupProcesses`. */
export function spawnProcess(argv: string[], options: SpawnOptions = {}): Spawned {
  const proc = Bun.spawn(argv, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, [SITE_MARK]: callerTestSite(), ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const drain = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const outputClosed = Promise.all([
    drain(proc.stdout, (s) => (out += s)).catch(() => {}),
    drain(proc.stderr, (s) => (err += s)).catch(() => {}),
  ]).then(() => {});
  const describe = () => `${argv.join(" ")}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  const spawned: Spawned = {
    proc,
    pid: proc.pid,
    outputClosed,
    stdout: () => out,
    stderr: () => err,
    async waitForOutput(re, timeoutMs = 15_000) {
      let exited = false;
      void outputClosed.then(() => (exited = true));
      try {
        return await poll(
          () => {
            const m = (out + err).match(re);
            if (m) return m;
            // Output closed (the process ended) without a match: fail now, not at the deadline.
            if (exited) throw new Error(`Process exited (status ${proc.exitCode}) before printing ${re}: ${describe()}`);
            return undefined;
          },
          10,
          { signal: AbortSignal.timeout(timeoutMs) },
        );
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("Process exited")) throw error;
        throw new Error(`Timed out waiting for ${re} after ${timeoutMs} ms: ${describe()}`);
      }
    },
    async waitForExit(timeoutMs = 15_000) {
      const code = await Promise.race([proc.exited, delay(timeoutMs).then(() => null)]);
      if (code === null) throw new Error(`Timed out waiting for exit after ${timeoutMs} ms: ${describe()}`);
      return code;
    },
    async stop(graceMs = 5000) {
      if (!isGone(proc.pid)) proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), delay(graceMs).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      await waitGone(proc.pid);
      live.delete(spawned);
    },
  };
  live.add(spawned);
  void proc.exited.then(() => live.delete(spawned));
  return spawned;
}

/** The first `file:line` of a test file on the current stack, for the leftover guard's report. */
function callerTestSite(): string {
  const frame = new Error().stack?.split("\n").find((line) => /\.(test|real)\.ts:\d+/.test(line));
  const m = frame?.match(/([^/\s(]+\.(?:test|real)\.ts:\d+)/);
  return m?.[1] ?? "unknown";
}

/** Subcommands that never use a state directory. */
const NO_STATE_DIR = new Set(["validate", "fake-upstream", "replay", "help", "version", "--help", "-h", "--version", "-version"]);

/**
 * Runs modelswap with `args`: from source, or the binary at `binary`. A
 * `serve` without `--state-dir` gets a fresh private one (removed when it
 * exits): the default is shared by every modelswap of this user, and its
 * lock admits one owner, while tests of several worktrees run at once.
 */
export function spawnModelswap(args: string[], options: SpawnOptions & { binary?: string } = {}): Spawned {
  const cmd = options.binary ? [options.binary] : [BUN, MAIN_TS];
  const first = args[0] ?? "";
  const serves =
    (first === "serve" || first === "" || (first.startsWith("-") && !NO_STATE_DIR.has(first))) &&
    !args.some((a) => a === "--state-dir" || a.startsWith("--state-dir=") || a === "-state-dir");
  if (!serves) return spawnProcess([...cmd, ...args], options);
  const stateDir = mkdtempSync(join(tmpdir(), "modelswap-state-"));
  const at = args[0] === "serve" ? 1 : 0;
  const p = spawnProcess([...cmd, ...args.slice(0, at), "--state-dir", stateDir, ...args.slice(at)], options);
  void p.proc.exited.then(() => rmSync(stateDir, { recursive: true, force: true }));
  return p;
}

/** Runs modelswap to completion and returns its exit code and output. */
export async function runModelswap(
  args: string[],
  options: SpawnOptions & { binary?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = spawnModelswap(args, options);
  const code = await p.waitForExit(options.timeoutMs ?? 30_000);
  // A grandchild holding the pipes open must not hang the test: bound the wait.
  await Promise.race([p.outputClosed, delay(5000)]);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Starts `modelswap fake-upstream` on a free port and resolves once it has
 * printed its URL.
 */
export async function startFakeUpstreamProcess(
  args: string[] = [],
  options: SpawnOptions & { binary?: string } = {},
): Promise<Spawned & { url: string }> {
  const p = spawnModelswap(["fake-upstream", "--port", "0", ...args], options);
  const m = await p.waitForOutput(/fake-upstream listening on (http:\/\/\S+)/);
  return Object.assign(p, { url: m[1]! });
}

/**
 * Starts `modelswap` with `args` plus `--listen 127.0.0.1:0` and resolves
 * once it has printed the URL it listens on (no trailing slash).
 */
export async function startModelswap(
  args: string[],
  options: SpawnOptions & { binary?: string; timeoutMs?: number } = {},
): Promise<Spawned & { url: string }> {
  const p = spawnModelswap([...args, "--listen", "127.0.0.1:0"], options);
  const m = await p.waitForOutput(/listening on (http:\/\/\S+)/, options.timeoutMs);
  return Object.assign(p, { url: m[1]!.replace(/\/$/, "") });
}

/** Polls `url` until it answers with `status` (default 200); rejects after `timeoutMs`. */
export async function waitForUrl(url: string, options: { status?: number; timeoutMs?: number } = {}): Promise<Response> {
  const want = options.status ?? 200;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  let last = "no answer";
  try {
    return await poll(async () => {
      try {
        const res = await fetch(url, { signal });
        if (res.status === want) return res;
        last = `status ${res.status}`;
        await res.body?.cancel();
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      return undefined;
    }, 20, { signal });
  } catch {
    throw new Error(`Timed out waiting for ${url} to answer ${want}: last ${last}`);
  }
}

/**
 * The first of `n` consecutive ports free right now, below the kernel's
 * ephemeral range (32768+ on Linux): a port from port 0 lies inside it and
 * may be handed to some client socket before the test binds it.
 */
export function freePortRange(n: number, host = "127.0.0.1"): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const taken = Array.from({ length: n }, (_, i) => base + i).some((port) => {
      try {
        Bun.listen({ hostname: host, port, socket: { data() {} } }).stop(true);
        return false;
      } catch {
        return true;
      }
    });
    if (!taken) return base;
  }
  throw new Error(`Cannot find ${n} consecutive free ports below 32000: 50 attempts failed`);
}

/** A port that was free a moment ago, outside the ephemeral range (see `freePortRange`). */
export function freePort(host = "127.0.0.1"): number {
  return freePortRange(1, host);
}

/** The state letter from `/proc/PID/stat` (R, S, Z, …), or null when there is no such process. */
export function processState(pid: number): string | null {
  return readProcStat(pid)?.state ?? null;
}

/** True when `pid` no longer runs: no /proc entry, or a zombie (a PID 1 that does not reap). */
export function isGone(pid: number): boolean {
  const state = processState(pid);
  return state === null || state === "Z" || state === "X";
}

/** Resolves once `pid` is gone; rejects after `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs = 10_000): Promise<void> {
  try {
    await poll(() => (isGone(pid) ? true : undefined), 10, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw new Error(`Process ${pid} is still running after ${timeoutMs} ms: state ${processState(pid)}`);
  }
}

/**
 * Pids of live (non-zombie) processes whose command line (or, with
 * `"environ"`, environment) contains `needle`, e.g. a model's `--port 5801`.
 * NUL separators read as spaces.
 */
export function findPids(needle: string, source: "cmdline" | "environ" = "cmdline"): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const text = readFileSync(`/proc/${pid}/${source}`, "latin1").split("\0").join(" ");
      if (text.includes(needle) && !isGone(pid)) pids.push(pid);
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

/** SIGKILLs every process started by these helpers that is still running, and waits until each is gone. */
export async function cleanupProcesses(): Promise<void> {
  const all = [...live];
  live.clear();
  for (const p of all) if (!isGone(p.pid)) p.proc.kill("SIGKILL");
  await Promise.all(all.map((p) => waitGone(p.pid)));
}
