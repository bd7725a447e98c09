/**
 * Process facts from `ps`, for systems without /proc (macOS, FreeBSD), and
 * from `tasklist` / `taskkill` on Windows:
 * the same `ProcStat` that process-tree.ts reads from /proc/PID/stat, so the
 * callers (liveness, group members, pid reuse checks) do not change.
 *
 * `ps -o pid=,ppid=,pgid=,stat=,lstart=` is understood by macOS, the BSDs
 * and Linux procps alike. `lstart` ("Tue Dec  1 06:23:21 2026") stands in
 * for /proc's start time in clock ticks: read by the same function on the
 * same machine, it names one process for good just the same (pid reuse
 * within one second is the one case it cannot tell apart).
 */
import type { ProcStat } from "./proc-stat.ts";

/** The columns asked of `ps`; `lstart` last because it has spaces. */
export const PS_COLUMNS = "pid=,ppid=,pgid=,stat=,lstart=";

/** ps STAT letters that mean the same as another letter of /proc's state. */
const STATE_OF: Record<string, string> = { U: "D", I: "S" };

/**
 * One line of `ps -o pid=,ppid=,pgid=,stat=,lstart=` → ProcStat, or null for
 * a line that is not one (a header, a blank line).
 *
 * @example
 * ```ts
 * parsePsLine("  501     1   501 Ss   Tue Dec  1 06:23:21 2026");
 * // { pid: 501, state: "S", ppid: 1, pgrp: 501, session: 0, startTime: 1796106201 }  (seconds, local time)
 * ```
 */
export function parsePsLine(line: string): ProcStat | null {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
  if (!m) return null;
  const started = Date.parse(m[5]!.replace(/\s+/g, " "));
  if (Number.isNaN(started)) return null;
  const letter = m[4]!.charAt(0);
  return {
    pid: Number(m[1]),
    state: STATE_OF[letter] ?? letter,
    ppid: Number(m[2]),
    pgrp: Number(m[3]),
    // ps has no portable session column; nothing in modelswap reads it.
    session: 0,
    startTime: Math.round(started / 1000),
  };
}

/** Every process line of `ps` output. */
export function parsePsOutput(text: string): ProcStat[] {
  const out: ProcStat[] = [];
  for (const line of text.split("\n")) {
    const stat = parsePsLine(line);
    if (stat) out.push(stat);
  }
  return out;
}

/** Runs `ps` with `args` (C locale, so lstart is in English); "" when it fails (no such pid exits 1). */
function runPs(args: string[]): string {
  try {
    const r = Bun.spawnSync(["ps", ...args, "-o", PS_COLUMNS], { env: { ...process.env, LC_ALL: "C" }, stdout: "pipe", stderr: "ignore" });
    return r.stdout.toString();
  } catch {
    return "";
  }
}

/** The ProcStat of `pid` from `ps`, or null when it does not exist. */
export function psStat(pid: number): ProcStat | null {
  return parsePsOutput(runPs(["-p", String(pid)])).find((s) => s.pid === pid) ?? null;
}

/** The ProcStat of every process `ps -A` lists. */
export function psAll(): ProcStat[] {
  return parsePsOutput(runPs(["-A"]));
}

/**
 * Windows has neither /proc nor `ps` nor process groups: `tasklist` says
 * whether a pid runs (`tasklist /FI "PID eq N" /FO CSV /NH` prints
 * `"name.exe","1234","Console","1","12,345 K"`, or an INFO line when there is
 * none). No parent, group or start time is known, so a process stands for
 * its own group (pgrp = pid) and startTime is 0.
 */
export function parseTasklistCsv(text: string): ProcStat[] {
  const out: ProcStat[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^"[^"]*","(\d+)",/.exec(line.trim());
    if (!m) continue;
    const pid = Number(m[1]);
    out.push({ pid, state: "R", ppid: 0, pgrp: pid, session: 0, startTime: 0 });
  }
  return out;
}

/** The ProcStat of `pid` from `tasklist` (Windows), or null when it does not run. */
export function tasklistStat(pid: number): ProcStat | null {
  try {
    const r = Bun.spawnSync(["tasklist", "/FI", `PID eq ${pid}`, "/FO", "CSV", "/NH"], { stdout: "pipe", stderr: "ignore" });
    return parseTasklistCsv(r.stdout.toString()).find((s) => s.pid === pid) ?? null;
  } catch {
    return null;
  }
}

/**
 * Ends `pid` and every process it started (Windows: `taskkill /T /F`), the
 * stand-in for signalling a process group; false when there was nothing to end.
 */
export function taskkillTree(pid: number): boolean {
  try {
    return Bun.spawnSync(["taskkill", "/T", "/F", "/PID", String(pid)], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  } catch {
    return false;
  }
}
