/**
 * Every process the benchmark starts, so that all of them (and whatever they
 * forked, in their own process groups too) are gone on exit, SIGINT or error.
 */
import { readdirSync, readFileSync, openSync, closeSync } from "node:fs";
import { delay, poll } from "../src/lib/async.ts";
import { isAlive } from "../src/supervisor/process-tree.ts";

export interface Child {
  name: string;
  pid: number;
  proc: Bun.Subprocess;
  /** Path of the file that receives the child's stdout and stderr. */
  logPath: string;
}

const live = new Set<Child>();

/** True when the process no longer exists or is a zombie. */
const isGone = (pid: number): boolean => !isAlive(pid);

/** Each thread id of `pid` with the text of its `/proc/PID/task/TID/<file>` (threads gone meanwhile are skipped). */
function taskFiles(pid: number, file: string): Array<[tid: string, text: string]> {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: Array<[string, string]> = [];
  for (const tid of tasks) {
    try {
      out.push([tid, readFileSync(`/proc/${pid}/task/${tid}/${file}`, "utf8")]);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Pids of all descendants of `pid` (every thread's children, recursively). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const [, text] of taskFiles(pid, "children")) {
    for (const c of text.split(/\s+/).filter(Boolean).map(Number)) out.push(c, ...descendants(c));
  }
  return out;
}

/** Resident set size of one process in kB (VmRSS), children excluded. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`Cannot read VmRSS: process ${pid} has none`);
  return Number(m[1]);
}

/** The soft open-files limit of a process (`Max open files` in /proc/PID/limits). */
export function openFilesLimit(pid: number): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return m ? Number(m[1]) : 1024;
}

/** How many files `pid` has open now. */
export function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** CPU time (user + system, clock ticks) of each thread of `pid`, summed by thread name ("main" is the main thread, "Worker" a Worker). */
export function threadCpuTicks(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, stat] of taskFiles(pid, "stat")) {
    const name = tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out[name] = (out[name] ?? 0) + Number(fields[11]) + Number(fields[12]);
  }
  return out;
}

/** Kernel-mode CPU time (clock ticks) of all threads of `pid`: its syscalls, including the loopback TCP work a send does for the receiver. */
export function systemTicks(pid: number): number {
  let sum = 0;
  for (const [, stat] of taskFiles(pid, "stat")) sum += Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[12]);
  return sum;
}

/** CPU time (user + system, clock ticks) of all threads of `pids`, together. */
export function processTicks(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) for (const t of Object.values(threadCpuTicks(pid))) sum += t;
  return sum;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Starts `argv` with output to `logPath`, registered for cleanup. */
export function start(name: string, argv: string[], logPath: string, env: Record<string, string> = {}): Child {
  const fd = openSync(logPath, "a");
  const proc = Bun.spawn(argv, {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: fd,
    stderr: fd,
  });
  closeSync(fd);
  const child: Child = { name, pid: proc.pid, proc, logPath };
  live.add(child);
  return child;
}

/**
 * Stops a child: SIGTERM, then SIGKILL after `graceMs`, then SIGKILL to every
 * descendant (and its process group) that outlived it.
 */
export async function stop(child: Child, graceMs = 3000): Promise<void> {
  const family = descendants(child.pid);
  signal(child.pid, "SIGTERM");
  try {
    await poll(() => (isGone(child.pid) ? true : undefined), 10, { signal: AbortSignal.timeout(graceMs) });
  } catch {
    signal(child.pid, "SIGKILL");
  }
  await child.proc.exited.catch(() => undefined);
  for (const pid of family) {
    if (isGone(pid)) continue;
    signal(-pid, "SIGKILL");
    signal(pid, "SIGKILL");
  }
  try {
    await poll(() => (family.every(isGone) ? true : undefined), 10, { signal: AbortSignal.timeout(2000) });
  } catch {
    console.error(`bench: cannot reap all of ${child.name}'s children: still alive ${family.filter((p) => !isGone(p)).join(" ")}`);
  }
  live.delete(child);
}

/** Stops every live child, newest first. */
export async function stopAll(): Promise<void> {
  for (const c of [...live].reverse()) await stop(c);
}

/** Last-resort synchronous kill of everything, for `process.on("exit")`. */
function killAllNow(): void {
  for (const c of live) {
    for (const pid of [c.pid, ...descendants(c.pid)]) {
      signal(-pid, "SIGKILL");
      signal(pid, "SIGKILL");
    }
  }
}

let installed = false;
/** Installs SIGINT/SIGTERM/exit handlers that clean up every child. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      console.error(`bench: ${sig}, stopping ${live.size} children`);
      void Promise.race([stopAll(), delay(5000)]).finally(() => process.exit(130));
    });
  }
}

/** Ports this process handed out: a model's port is bound only when the model starts, maybe minutes later. */
const handedOut = new Set<number>();

/**
 * A port free a moment ago on 127.0.0.1, below the kernel's ephemeral range
 * (32768+ on Linux), that this process did not hand out before. Why: from port
 * 0 the kernel gave the same port twice while the first was not bound yet (a
 * model started on demand), and modelswap listened on its stream model's
 * port, whose /health was then modelswap's own; and a port in the ephemeral
 * range may become some client socket's before a model binds it.
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    try {
      Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    } catch {
      continue; // taken
    }
    handedOut.add(port);
    return port;
  }
  throw new Error("Cannot find a free port below 32000: 200 attempts failed");
}

/** Waits until `url` answers anything with a status in `ok`, or the child dies. */
export async function waitHttp(child: Child, url: string, timeoutMs: number, ok: (status: number) => boolean = (s) => s < 500): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await poll(
      async () => {
        if (isGone(child.pid)) throw new Error(`Cannot start ${child.name}: it exited, see ${child.logPath}:\n${tail(child.logPath)}`);
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          return ok(res.status) ? true : undefined;
        } catch {
          return undefined;
        }
      },
      10,
      { signal },
    );
  } catch (e) {
    if (signal.aborted) throw new Error(`Cannot start ${child.name}: ${url} not ready after ${timeoutMs} ms, see ${child.logPath}:\n${tail(child.logPath)}`);
    throw e;
  }
}

/** The last lines of a log file. */
export function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
