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
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return members;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const stat = readProcStat(Number(name));
    if (stat && stat.pgrp === pgid && !isGone(stat)) members.push(stat.pid);
  }
  return members;
}

/**
 * Sends `signal` to every process of group `pgid`; returns false when the
 * group no longer exists, so callers need not catch ESRCH.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!(pgid > 1)) throw new RangeError(`Cannot signal the process group as 'pgid' must be > 1: current value is ${pgid}`);
  // Windows has no process groups: any stop ends the whole tree.
  if (WINDOWS) return taskkillTree(pgid);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "ESRCH") return false;
    throw error;
  }
}
