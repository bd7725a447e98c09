/**
 * The predecessor sweep: at start, under the state directory's lock, removes
 * what an earlier modelswap left running when it died without stopping its
 * model servers (SIGKILL, crash, power cut of the parent only): their process
 * groups and the descendants that escaped them with `setsid`.
 */
import { rmSync } from "node:fs";
import { poll } from "../lib/async.ts";
import { type PidRecord, listPidRecords, listTempRecords, readPidRecord, TEMP_RECORD } from "./pid-record.ts";
import { envHolders, groupMembers, isAlive, runningSince, selfIdentity, signalGroup, signalPid } from "./process-tree.ts";
import { basename } from "node:path";

/** Environment variable holding a per-spawn random token, inherited by everything a model server forks. */
export const GROUP_TOKEN_ENV = "MODELSWAP_GROUP_TOKEN";

/** Processes carrying a spawn's token (its descendants, in its group or escaped from it). */
export function tokenHolders(token: string): number[] {
  return token === "" ? [] : envHolders(GROUP_TOKEN_ENV, token);
}

/**
 * Whether group `record.pgid` is still the one modelswap spawned: it is the
 * spawned pid's own group, and its leader has the recorded start time, or
 * (leader gone, e.g. killed by the parent-death signal) a member still
 * carries the spawn's token.
 */
function groupStillOurs(record: PidRecord, holders: readonly number[]): boolean {
  // A group modelswap spawned is led by the spawned pid (setsid); any other id is someone else's group.
  if (record.pgid !== record.pid) return false;
  const leader = runningSince(record.pid, record.startTime);
  if (leader !== null) return leader.pgrp === record.pgid;
  const members = groupMembers(record.pgid);
  return members.some((pid) => holders.includes(pid));
}

/** Whether the modelswap that wrote a record still runs (same pid, same start time). */
function ownerRuns(owner: NonNullable<PidRecord["owner"]>): boolean {
  return runningSince(owner.pid, owner.startTime) !== null;
}

/**
 * SIGKILLs what one record names: its group (when still the one spawned)
 * and every process carrying its token; resolves with how many processes
 * were signalled, once they are gone (at most 5 s).
 */
export async function killRecorded(record: PidRecord): Promise<number> {
  const holders = tokenHolders(record.token);
  const targets = new Set<number>(holders);
  if (groupStillOurs(record, holders)) {
    for (const pid of groupMembers(record.pgid)) targets.add(pid);
    signalGroup(record.pgid, "SIGKILL");
  }
  for (const pid of targets) signalPid(pid, "SIGKILL");
  if (targets.size === 0) return 0;
  await poll(() => ([...targets].every((pid) => !isAlive(pid)) ? true : undefined), 10, {
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  return targets.size;
}

/**
 * Kills what the records in `stateDir` name, for every record whose writer
 * no longer runs (records of a modelswap that still runs are left alone),
 * matching processes by start time (a reused pid is never signalled) and by
 * spawn token (what escaped the group with `setsid`). Removes those records
 * and stale temporary files. Resolves with how many processes were killed.
 *
 * @example
 * ```ts
 * const killed = await cleanupLeftovers(stateDir);
 * if (killed > 0) log(`swept ${killed} leftover process(es) of an earlier run`);
 * ```
 */
export async function cleanupLeftovers(stateDir: string): Promise<number> {
  let killed = 0;
  for (const path of listPidRecords(stateDir)) {
    const record = readPidRecord(path);
    if (record === null) continue; // not this user's file, or not a record: never acted on
    if (record.owner && ownerRuns(record.owner)) continue;
    killed += await killRecorded(record);
    rmSync(path, { force: true });
  }
  removeStaleTemps(stateDir);
  return killed;
}

/** Removes temporary record files whose writer is gone. */
export function removeStaleTemps(stateDir: string): number {
  let removed = 0;
  for (const path of listTempRecords(stateDir)) {
    const writer = Number(TEMP_RECORD.exec(basename(path))?.[1]);
    if (writer === process.pid || isAlive(writer)) continue;
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}

/**
 * Kills what this modelswap's own records name (its groups and what escaped
 * them): the main thread's last resort when the scheduler Worker died and
 * nothing else can stop the model servers. Resolves with how many processes
 * were killed.
 */
export async function killOwnRecords(stateDir: string): Promise<number> {
  const me = selfIdentity();
  let killed = 0;
  for (const path of listPidRecords(stateDir)) {
    const record = readPidRecord(path);
    if (record === null || record.owner?.pid !== me.pid || record.owner.startTime !== me.startTime) continue;
    killed += await killRecorded(record);
    rmSync(path, { force: true });
  }
  return killed;
}
