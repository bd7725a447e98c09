/**
 * What /proc says about processes and process groups. `kill -0` succeeds on
 * zombies, which a non-reaping PID 1 in a container leaves around, so liveness
 * is read from /proc/PID/stat instead.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { psAll, psStat, taskkillTree, tasklistStat } from "./process-ps.ts";
import type { ProcStat } from "./proc-stat.ts";

export type { ProcStat };

/** Without /proc (macOS, FreeBSD) the same facts come from `ps`, on Windows from `tasklist` (process-ps.ts). */
const HAS_PROC = existsSync("/proc/self/stat");
const WINDOWS = process.platform === "win32";

/**
 * Parses the text of /proc/PID/stat; the command name may hold spaces and
 * parentheses, so fields are counted from the last ")".
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  const open = text.indexOf("(");
  if (close < 0 || open < 0) return null;
  const pid = Number(text.slice(0, open).trim());
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const rest = text.slice(close + 2).split(" ");
  const field = (n: number) => Number(rest[n - 3]);
  const state = rest[0];
  if (state === undefined || rest.length < 20) return null;
  return { pid, state, ppid: field(4), pgrp: field(5), session: field(6), startTime: field(22) };
}

/** Reads /proc/PID/stat, or null when the process does not exist. */
export function readProcStat(pid: number): ProcStat | null {
  if (!HAS_PROC) return WINDOWS ? tasklistStat(pid) : psStat(pid);
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/** Whether a stat describes no running process: missing, zombie or dead. */
export function isGone(stat: ProcStat | null): boolean {
  return stat === null || stat.state === "Z" || stat.state === "X";
}

/**
 * Whether a process runs: false when missing or a zombie, because a zombie
 * holds no resources and only waits for a parent to reap it.
 *
 * @example
 * ```ts
 * if (isAlive(pid)) process.kill(pid, "SIGKILL");
 * ```
 */
export function isAlive(pid: number): boolean {
  return !isGone(readProcStat(pid));
}

/**
 * The live (non-zombie) pids of process group `pgid`, found by scanning /proc,
 * so a stop can wait until nothing a model server forked is left.
 *
 * @example
 * ```ts
 * await poll(() => (groupMembers(pgid).length === 0 ? true : undefined), 20);
 * ```
 */
export function groupMembers(pgid: number): number[] {
  if (WINDOWS) return isGone(tasklistStat(pgid)) ? [] : [pgid];
  if (!HAS_PROC) return psAll().filter((s) => s.pgrp === pgid && !isGone(s)).map((s) => s.pid);
  const members: number[] = [];
  for (const pid of procPids()) {
    const stat = readProcStat(pid);
    if (stat && stat.pgrp === pgid && !isGone(stat)) members.push(stat.pid);
  }
  return members;
}

/** The pids /proc lists now (none when it cannot be read). */
export function procPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

/** What a signal did: delivered, nobody there (ESRCH), or refused (EPERM: another user's process). */
export type SignalOutcome = "sent" | "gone" | "denied";

/**
 * Sends `signal` to every process of group `pgid`. Never throws for what the
 * kernel answers (ESRCH → "gone", EPERM → "denied"): an exception inside the
 * scheduler Worker would report a running model as stopped and kill the
 * scheduler. A `pgid` ≤ 1 is refused as "gone" (kill(-1) would reach every
 * process of the user), and so is modelswap's own group.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): SignalOutcome {
  if (!(pgid > 1)) return "gone";
  // Never our own group: that is modelswap itself and whoever started it (a shell, a test runner, CI).
  if (pgid === ownGroup()) return "gone";
  // Windows has no process groups: any stop ends the whole tree.
  if (WINDOWS) return taskkillTree(pgid) ? "sent" : "gone";
  return signalTarget(-pgid, signal);
}

let ownPgrp: number | null | undefined;

/** This process's group id (null where /proc and ps cannot tell), read once: modelswap never changes it. */
function ownGroup(): number | null {
  if (ownPgrp === undefined) ownPgrp = WINDOWS ? null : (readProcStat(process.pid)?.pgrp ?? null);
  return ownPgrp;
}

/** Sends `signal` to one process; never throws (see `signalGroup`). */
export function signalPid(pid: number, signal: NodeJS.Signals): SignalOutcome {
  if (!(pid > 1)) return "gone";
  return signalTarget(pid, signal);
}

function signalTarget(target: number, signal: NodeJS.Signals): SignalOutcome {
  try {
    process.kill(target, signal);
    return "sent";
  } catch (error) {
    return (error as { code?: string }).code === "EPERM" ? "denied" : "gone";
  }
}

/** The message for a refused signal, naming the way out. */
export function deniedMessage(pid: number): string {
  return `cannot signal pid ${pid}: permission denied; use cmdStop`;
}

/**
 * Live processes whose environment holds `NAME=value` (only this user's
 * processes are readable): what a model server forked, even after it left
 * the process group with `setsid`.
 *
 * @example
 * ```ts
 * for (const pid of envHolders("MODELSWAP_GROUP_TOKEN", token)) signalPid(pid, "SIGKILL");
 * ```
 */
export function envHolders(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const found: number[] = [];
  for (const pid of procPids()) {
    if (pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(needle)) continue;
    } catch {
      continue; // gone, or another user's
    }
    if (isAlive(pid)) found.push(pid);
  }
  return found;
}

/** "pid N in state D" for the first of `pids` still present, for the unkillable report. */
export function describeStuck(pids: readonly number[]): string {
  const pid = pids[0];
  if (pid === undefined) return "no process";
  return `pid ${pid} in state ${readProcStat(pid)?.state ?? "?"}`;
}

let self: { pid: number; startTime: number } | undefined;
/** This process as a record or lock owner (pid and start time); read from /proc once. */
export function selfIdentity(): { pid: number; startTime: number } {
  self ??= { pid: process.pid, startTime: readProcStat(process.pid)?.startTime ?? 0 };
  return self;
}

/** The stat of `pid` when it still runs and is the process that started at `startTime` (not a reused pid). */
export function runningSince(pid: number, startTime: number): ProcStat | null {
  const stat = readProcStat(pid);
  return stat !== null && !isGone(stat) && stat.startTime === startTime ? stat : null;
}
