import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GROUP_TOKEN_ENV, cleanupLeftovers, tokenHolders } from "../../../src/supervisor/leftovers.ts";
import { type PidRecord, recordPath, writePidRecord } from "../../../src/supervisor/pid-record.ts";
import { groupMembers, isAlive, readProcStat, signalGroup } from "../../../src/supervisor/process-tree.ts";
import { tempStateDir, waitFor, waitGroupGone, removeTempDirs } from "./helpers.ts";

afterAll(removeTempDirs);

const groups: number[] = [];
/** Processes that left their group (setsid): killed by pid after each test if still there. */
const escapedPids: number[] = [];

/** Spawns `sh -c 'sleep 1000 & wait'` in its own group, as an earlier modelswap would have. */
async function orphanGroup(token = "t-1") {
  const proc = Bun.spawn({ cmd: ["sh", "-c", "sleep 1000 & wait"], detached: true, env: { ...process.env, [GROUP_TOKEN_ENV]: token } });
  groups.push(proc.pid);
  const members = await waitFor(() => (groupMembers(proc.pid).length === 2 ? groupMembers(proc.pid) : undefined));
  const record: PidRecord = { pid: proc.pid, pgid: proc.pid, startTime: readProcStat(proc.pid)!.startTime, model: "old", argv: ["sh"], token };
  return { pid: proc.pid, members, record };
}

afterEach(async () => {
  for (const pid of escapedPids.splice(0)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  const left = groups.splice(0).filter((pgid) => groupMembers(pgid).length > 0);
  for (const pgid of left) signalGroup(pgid, "SIGKILL");
  await Promise.all(left.map((pgid) => waitGroupGone(pgid)));
});

describe("cleanupLeftovers", () => {
  test("kills a recorded group whose leader still has the recorded start time, and removes the record", async () => {
    const dir = tempStateDir();
    const { members, record } = await orphanGroup();
    writePidRecord(dir, record);
    expect(await cleanupLeftovers(dir)).toBe(2); // sh and the sleep it forked
    for (const pid of members) expect(isAlive(pid)).toBe(false);
    expect(existsSync(recordPath(dir, record.pid))).toBe(false);
  });

  test("never signals a pid whose start time differs from the record (pid reused)", async () => {
    const dir = tempStateDir();
    const { pid, members, record } = await orphanGroup();
    writePidRecord(dir, { ...record, startTime: record.startTime - 1, token: "" });
    expect(await cleanupLeftovers(dir)).toBe(0);
    for (const p of members) expect(isAlive(p)).toBe(true);
    expect(existsSync(recordPath(dir, record.pid))).toBe(false);
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

  test("never signals as a group a group the recorded pid does not lead (someone else's): only the token holder dies", async () => {
    const dir = tempStateDir();
    // Someone else's group (its leader is sh): a sleep of theirs, and a process carrying our token.
    const proc = Bun.spawn({ cmd: ["sh", "-c", `sleep 1000 & env ${GROUP_TOKEN_ENV}=tok sleep 1000 & wait`], detached: true });
    groups.push(proc.pid);
    await waitFor(() => (groupMembers(proc.pid).length === 3 ? true : undefined));
    const holder = await waitFor(() => tokenHolders("tok")[0]);
    writePidRecord(dir, { pid: holder, pgid: proc.pid, startTime: readProcStat(holder)!.startTime, model: "old", argv: ["sleep"], token: "tok" });
    expect(await cleanupLeftovers(dir)).toBe(1);
    expect(isAlive(holder)).toBe(false);
    expect(groupMembers(proc.pid)).toHaveLength(2);
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
    expect(existsSync(recordPath(dir, record.pid))).toBe(true);
    // The same owner pid with another start time is an earlier modelswap whose pid was reused: a leftover.
    writePidRecord(dir, { ...record, owner: { ...self, startTime: self.startTime - 1 } });
    expect(await cleanupLeftovers(dir)).toBe(2);
    for (const pid of members) expect(isAlive(pid)).toBe(false);
  });

  test("reads and deletes only its own records: a project's *.json files stay, in the dir and in procs/", async () => {
    const dir = tempStateDir();
    mkdirSync(join(dir, "procs"), { recursive: true });
    const kept = [join(dir, "package.json"), join(dir, "tsconfig.json"), join(dir, "procs", "notes.json"), join(dir, "procs", "junk.json")];
    for (const f of kept) writeFileSync(f, JSON.stringify({ pid: 1, pgid: 1, startTime: 0, model: "x" }));
    writeFileSync(join(dir, "procs", "12.json"), "{not json");
    expect(await cleanupLeftovers(dir)).toBe(0);
    for (const f of kept) expect(existsSync(f)).toBe(true);
    expect(await cleanupLeftovers(join(dir, "missing"))).toBe(0);
  });

  test("kills a descendant that escaped the group with setsid, found by the spawn token", async () => {
    const dir = tempStateDir();
    const token = `escape-${process.pid}-${Date.now()}`;
    const proc = Bun.spawn({ cmd: ["sh", "-c", "setsid sleep 1000 & wait"], detached: true, env: { ...process.env, [GROUP_TOKEN_ENV]: token } });
    groups.push(proc.pid);
    const escaped = await waitFor(() => tokenHolders(token).find((pid) => readProcStat(pid)?.pgrp !== proc.pid));
    escapedPids.push(escaped);
    writePidRecord(dir, { pid: proc.pid, pgid: proc.pid, startTime: readProcStat(proc.pid)!.startTime, model: "old", argv: ["sh"], token });
    expect(await cleanupLeftovers(dir)).toBe(2); // the sh leader and the escaped sleep
    expect(isAlive(escaped)).toBe(false);
  });

  test("never acts on a record file another user owns (planted to have us SIGKILL something)", async () => {
    if (process.getuid?.() !== 0) return; // only root can give a file away; unprivileged runs cover the rest
    const dir = tempStateDir();
    const { members, record } = await orphanGroup();
    const path = writePidRecord(dir, record);
    chownSync(path, 65534, 65534);
    expect(await cleanupLeftovers(dir)).toBe(0);
    for (const pid of members) expect(isAlive(pid)).toBe(true);
    expect(existsSync(path)).toBe(true);
  });

  test("removes temporary record files whose writer is gone, and keeps a live writer's", async () => {
    const dir = tempStateDir();
    mkdirSync(join(dir, "procs"), { recursive: true });
    const gone = Bun.spawn({ cmd: ["true"] });
    await gone.exited;
    const stale = join(dir, "procs", `77.json.${gone.pid}.tmp`);
    const live = join(dir, "procs", `78.json.${process.pid}.tmp`);
    writeFileSync(stale, "{}");
    writeFileSync(live, "{}");
    await cleanupLeftovers(dir);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
