/**
 * One owner per state directory (src/supervisor/lock.ts), with real
 * processes: a live owner keeps the lock, a dead owner's lock is taken over.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireStateLock } from "../../../src/supervisor/lock.ts";
import { readProcStat } from "../../../src/supervisor/process-tree.ts";
import { prepareStateDir } from "../../../src/supervisor/state-dir.ts";
import { BUN, removeTempDirs, tempStateDir } from "./helpers.ts";
import { REPO_ROOT } from "../../helpers/processes.ts";

afterAll(removeTempDirs);

/** Tries the lock from another process; resolves with what it saw. */
async function tryFromAnotherProcess(dir: string): Promise<{ ok: boolean; holder?: number }> {
  const script = `import { acquireStateLock } from "${REPO_ROOT}/src/supervisor/lock.ts";
const r = acquireStateLock(${JSON.stringify(dir)});
console.log(JSON.stringify(r.ok ? { ok: true } : { ok: false, holder: r.holder.pid }));
if (r.ok) r.release();`;
  const proc = Bun.spawn({ cmd: [BUN, "-e", script], stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return JSON.parse(out) as { ok: boolean; holder?: number };
}

describe("acquireStateLock", () => {
  test("a live owner keeps the lock: a second process is told its pid", async () => {
    const dir = tempStateDir();
    prepareStateDir(dir);
    const lock = acquireStateLock(dir);
    expect(lock.ok).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "modelswap.lock"), "utf8"))).toEqual({ pid: process.pid, startTime: readProcStat(process.pid)!.startTime });
    expect(await tryFromAnotherProcess(dir)).toEqual({ ok: false, holder: process.pid });
    if (lock.ok) lock.release();
    expect(existsSync(join(dir, "modelswap.lock"))).toBe(false);
    expect(await tryFromAnotherProcess(dir)).toEqual({ ok: true });
  });

  test("a dead owner's lock is taken over, naming the dead owner", async () => {
    const dir = tempStateDir();
    prepareStateDir(dir);
    const dead = Bun.spawn({ cmd: ["true"] });
    await dead.exited;
    writeFileSync(join(dir, "modelswap.lock"), JSON.stringify({ pid: dead.pid, startTime: 12345 }), { mode: 0o600 });
    const lock = acquireStateLock(dir);
    expect(lock).toMatchObject({ ok: true, tookOverFrom: { pid: dead.pid, startTime: 12345 } });
    if (lock.ok) lock.release();
  });

  test("a lock naming a live pid with another start time (the pid was reused) is stale", () => {
    const dir = tempStateDir();
    prepareStateDir(dir);
    const me = readProcStat(process.pid)!;
    writeFileSync(join(dir, "modelswap.lock"), JSON.stringify({ pid: process.pid, startTime: me.startTime - 1 }), { mode: 0o600 });
    const lock = acquireStateLock(dir);
    expect(lock).toMatchObject({ ok: true, tookOverFrom: { pid: process.pid } });
    if (lock.ok) lock.release();
  });

  test("release leaves a lock that someone else took over alone", () => {
    const dir = tempStateDir();
    prepareStateDir(dir);
    const lock = acquireStateLock(dir);
    const theirs = JSON.stringify({ pid: 1, startTime: readProcStat(1)?.startTime ?? 0 });
    writeFileSync(join(dir, "modelswap.lock"), theirs, { mode: 0o600 });
    if (lock.ok) lock.release();
    expect(readFileSync(join(dir, "modelswap.lock"), "utf8")).toBe(theirs);
  });
});
