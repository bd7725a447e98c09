import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GROUP_TOKEN_ENV, cleanupLeftovers } from "../../../src/supervisor/leftovers.ts";
import { type PidRecord, recordPath, writePidRecord } from "../../../src/supervisor/pid-record.ts";
import { groupMembers, isAlive, readProcStat, signalGroup } from "../../../src/supervisor/process-tree.ts";
import { tempStateDir, waitFor, waitGroupGone, removeTempDirs } from "./helpers.ts";

afterAll(removeTempDirs);

const groups: number[] = [];

/** Spawns `sh -c 'sleep 1000 & wait'` in its own group, as an earlier modelswap would have. */
async function orphanGroup(token = "t-1") {
  const proc = Bun.spawn({ cmd: ["sh", "-c", "sleep 1000 & wait"], detached: true, env: { ...process.env, [GROUP_TOKEN_ENV]: token } });
  groups.push(proc.pid);
  const members = await waitFor(() => (groupMembers(proc.pid).length === 2 ? groupMembers(proc.pid) : undefined));
  const record: PidRecord = { pid: proc.pid, pgid: proc.pid, startTime: readProcStat(proc.pid)!.startTime, model: "old", argv: ["sh"], token };
  return { pid: proc.pid, members, record };
}

afterEach(async () => {
  const left = groups.splice(0).filter((pgid) => groupMembers(pgid).length > 0);
  for (const pgid of left) signalGroup(pgid, "SIGKILL");
  await Promise.all(left.map((pgid) => waitGroupGone(pgid)));
});

describe("cleanupLeftovers", () => {
  test("kills a recorded group whose leader still has the recorded start time, and removes the record", async () => {
    const dir = tempStateDir();
    const { members, record } = await orphanGroup();
    writePidRecord(dir, record);
    expect(await cleanupLeftovers(dir)).toBe(1);
    for (const pid of members) expect(isAlive(pid)).toBe(false);
    expect(existsSync(recordPath(dir, "old"))).toBe(false);
  });

  test("never signals a pid whose start time differs from the record (pid reused)", async () => {
    const dir = tempStateDir();
    const { pid, members, record } = await orphanGroup();
    writePidRecord(dir, { ...record, startTime: record.startTime - 1, token: "" });
    expect(await cleanupLeftovers(dir)).toBe(0);
    for (const p of members) expect(isAlive(p)).toBe(true);
    expect(existsSync(recordPath(dir, "old"))).toBe(false);
    expect(groupMembers(pid)).toHaveLength(2);
  });

  test("kills what a leader killed by the parent-death signal left in its group, found by the spawn token", async () => {
    const dir = tempStateDir();
    const { pid, members, record } = await orphanGroup("token-42");
    writePidRecord(dir, record);
    process.kill(pid, "SIGKILL");
    await waitFor(() => (isAlive(pid) ? undefined : true));
    expect(groupMembers(pid)).toHaveLength(1);
    expect(await cleanupLeftovers(dir)).toBe(1);
    for (const p of members) expect(isAlive(p)).toBe(false);
  });

  test("leaves a group alone when its leader is gone and no member carries the token", async () => {
    const dir = tempStateDir();
    const { pid, record } = await orphanGroup("mine");
    writePidRecord(dir, { ...record, token: "someone-else" });
    process.kill(pid, "SIGKILL");
    await waitFor(() => (isAlive(pid) ? undefined : true));
    expect(await cleanupLeftovers(dir)).toBe(0);
    expect(groupMembers(pid)).toHaveLength(1);
  });

  test("leaves alone, record and all, the servers of a modelswap that still runs in the same directory", async () => {
    const dir = tempStateDir();
    const { members, record } = await orphanGroup();
    const self = { pid: process.pid, startTime: readProcStat(process.pid)!.startTime };
    writePidRecord(dir, { ...record, owner: self });
    expect(await cleanupLeftovers(dir)).toBe(0);
    for (const pid of members) expect(isAlive(pid)).toBe(true);
    expect(existsSync(recordPath(dir, "old"))).toBe(true);
    // The same owner pid with another start time is an earlier modelswap whose pid was reused: a leftover.
    writePidRecord(dir, { ...record, owner: { ...self, startTime: self.startTime - 1 } });
    expect(await cleanupLeftovers(dir)).toBe(1);
    for (const pid of members) expect(isAlive(pid)).toBe(false);
  });

  test("ignores files that are not records and a missing directory", async () => {
    const dir = tempStateDir();
    writeFileSync(join(dir, "junk.json"), "{not json");
    writeFileSync(join(dir, "other.json"), JSON.stringify({ pid: 1, model: "x" }));
    expect(await cleanupLeftovers(dir)).toBe(0);
    expect(await cleanupLeftovers(join(dir, "missing"))).toBe(0);
  });
});
