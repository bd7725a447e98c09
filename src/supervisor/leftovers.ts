/**
 * Removes model servers that an earlier modelswap left running when it died
 * without stopping them (SIGKILL, crash, power cut of the parent only).
 */
import { readFileSync, rmSync } from "node:fs";
import { poll } from "../lib/async.ts";
import { type PidRecord, listPidRecords, readPidRecord } from "./pid-record.ts";
import { type ProcStat, groupMembers, isGone, readProcStat, signalGroup } from "./process-tree.ts";

/** Environment variable holding a per-spawn random token, inherited by everything a model server forks. */
export const GROUP_TOKEN_ENV = "MODELSWAP_GROUP_TOKEN";

function carriesToken(pid: number, token: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`${GROUP_TOKEN_ENV}=${token}`);
  } catch {
    return false;
  }
}

/**
 * Whether group `record.pgid` is still the one modelswap spawned: its leader
 * has the recorded start time, or (leader gone, e.g. killed by the parent-death
 * signal) a member still carries the spawn's token.
 */
function stillOurs(record: PidRecord): boolean {
  const leader = runningSince(record.pid, record.startTime);
  if (leader !== null) return leader.pgrp === record.pgid;
  if (record.token === "") return false;
  return groupMembers(record.pgid).some((pid) => carriesToken(pid, record.token));
}

/** Whether the modelswap that wrote a record still runs (same pid, same start time). */
function ownerRuns(owner: NonNullable<PidRecord["owner"]>): boolean {
  return runningSince(owner.pid, owner.startTime) !== null;
}

/** The stat of `pid` when it still runs and is the process that started at `startTime` (not a reused pid). */
function runningSince(pid: number, startTime: number): ProcStat | null {
  const stat = readProcStat(pid);
  return stat !== null && !isGone(stat) && stat.startTime === startTime ? stat : null;
}

/**
 * Kills process groups recorded in `stateDir` by an earlier modelswap that
 * died without cleaning up (records of a modelswap that still runs, sharing
 * the directory, are left alone), only when the recorded start time still matches
 * (/proc/PID/stat field 22), so a reused pid is never signalled. Every record
 * read is removed. Resolves with how many groups were killed.
 *
 * @example
 * ```ts
 * const killed = await cleanupLeftovers(config.stateDir);
 * if (killed > 0) log(`Removed ${killed} leftover model servers`);
 * ```
 */
export async function cleanupLeftovers(stateDir: string): Promise<number> {
  let killed = 0;
  for (const path of listPidRecords(stateDir)) {
    const record = readPidRecord(path);
    if (record?.owner && ownerRuns(record.owner)) continue;
    if (record && stillOurs(record) && signalGroup(record.pgid, "SIGKILL")) {
      killed++;
      await poll(() => (groupMembers(record.pgid).length === 0 ? true : undefined), 10, {
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
    }
    rmSync(path, { force: true });
  }
  return killed;
}
