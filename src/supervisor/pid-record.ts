/**
 * One JSON file per running model server in the state directory, so a later
 * modelswap can find what a crashed or SIGKILLed one left behind.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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

/** The file name for `model`: percent-encoded, so distinct names never share a file and "/" never escapes the directory. */
export function recordPath(stateDir: string, model: string): string {
  return join(stateDir, `${encodeURIComponent(model)}.json`);
}

/** Writes the record atomically (temporary file, then rename), creating `stateDir` if missing. */
export function writePidRecord(stateDir: string, record: PidRecord): string {
  mkdirSync(stateDir, { recursive: true });
  const path = recordPath(stateDir, record.model);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record) + "\n");
  renameSync(tmp, path);
  return path;
}

/** Removes the record of `model` when it still describes `pid`; a newer record of the same model is kept. */
export function removePidRecord(stateDir: string, model: string, pid: number): void {
  const path = recordPath(stateDir, model);
  const current = readPidRecord(path);
  if (current === null || current.pid === pid) rmSync(path, { force: true });
}

/** Reads one record file, or null when it is missing or not a record. */
export function readPidRecord(path: string): PidRecord | null {
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

/** Paths of every record file in `stateDir` (none when it does not exist). */
export function listPidRecords(stateDir: string): string[] {
  try {
    return readdirSync(stateDir)
      .filter((name) => name.endsWith(".json"))
      .map((name) => join(stateDir, name));
  } catch {
    return [];
  }
}
