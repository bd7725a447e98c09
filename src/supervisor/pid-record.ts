/**
 * One JSON file per spawned model server, `procs/<pid>.json` in the state
 * directory (0600), so a later modelswap can find what a crashed or
 * SIGKILLed one left behind. Keyed by pid, so two spawns of one model never
 * overwrite each other's record; read only when owned by this user.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ownFile, RECORDS_DIR } from "./state-dir.ts";

/** What is known about a spawned model server, written right after spawn. */
export interface PidRecord {
  pid: number;
  pgid: number;
  /** /proc/PID/stat field 22 of `pid`; a reused pid has a different one. */
  startTime: number;
  model: string;
  argv: string[];
  /** Value of MODELSWAP_GROUP_TOKEN in the server's environment, inherited by what it forks. */
  token: string;
  /** The modelswap that spawned it (pid and start time): while that one runs, the server is not a leftover. */
  owner?: { pid: number; startTime: number };
}

const RECORD = /^\d+\.json$/;
/** A temporary file of `writePidRecord`: `<pid>.json.<writer pid>.tmp`. */
export const TEMP_RECORD = /^\d+\.json\.(\d+)\.tmp$/;

/** The record file of the server with `pid`. */
export function recordPath(stateDir: string, pid: number): string {
  return join(stateDir, RECORDS_DIR, `${pid}.json`);
}

/** Writes the record atomically (temporary file, then rename), readable by this user only. */
export function writePidRecord(stateDir: string, record: PidRecord): string {
  mkdirSync(join(stateDir, RECORDS_DIR), { recursive: true, mode: 0o700 });
  const path = recordPath(stateDir, record.pid);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** Removes the record of the server with `pid` (nothing when there is none). */
export function removePidRecord(stateDir: string, pid: number): void {
  const path = recordPath(stateDir, pid);
  if (ownFile(path)) rmSync(path, { force: true });
}

/** Reads one record file, or null when it is missing, not this user's regular file, or not a record. */
export function readPidRecord(path: string): PidRecord | null {
  if (!ownFile(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const r = value as Record<string, unknown>;
  const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
  if (!isInt(r.pid) || !isInt(r.pgid) || !Number.isInteger(r.startTime) || typeof r.model !== "string") return null;
  const record: PidRecord = {
    pid: r.pid,
    pgid: r.pgid,
    startTime: r.startTime as number,
    model: r.model,
    argv: Array.isArray(r.argv) ? r.argv.map(String) : [],
    token: typeof r.token === "string" ? r.token : "",
  };
  const o = r.owner as Record<string, unknown> | null | undefined;
  if (typeof o === "object" && o !== null && isInt(o.pid) && Number.isInteger(o.startTime)) record.owner = { pid: o.pid, startTime: o.startTime as number };
  return record;
}

/** Paths of every record file in `stateDir`'s `procs/` (none when it does not exist); nothing else is listed. */
export function listPidRecords(stateDir: string): string[] {
  return listRecordsDir(stateDir, RECORD);
}

/** Paths of the record folder's temporary files. */
export function listTempRecords(stateDir: string): string[] {
  return listRecordsDir(stateDir, TEMP_RECORD);
}

function listRecordsDir(stateDir: string, pattern: RegExp): string[] {
  const dir = join(stateDir, RECORDS_DIR);
  try {
    return readdirSync(dir)
      .filter((name) => pattern.test(name))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}
