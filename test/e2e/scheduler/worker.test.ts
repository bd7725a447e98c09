/**
 * The real thing, once: createScheduler with a real Worker and a real model
 * process (test/fixtures/health-server.ts). Nothing may be left running.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poll } from "../../../src/lib/async.ts";
import type { Scheduler } from "../../../src/scheduler/api.ts";
import { createScheduler } from "../../../src/scheduler/client.ts";
import { testConfig } from "../../helpers/config-fixture.ts";
import { freePort } from "../../helpers/processes.ts";

const stateDir = mkdtempSync(join(tmpdir(), "modelswap-worker-"));
const seenPids: number[] = [];
let scheduler: Scheduler | null = null;

afterAll(async () => {
  await scheduler?.shutdown(0).catch(() => {});
  scheduler?.close();
  for (const pid of seenPids) if (!gone(pid)) process.kill(-pid, "SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

/** Gone: no /proc entry, or a zombie. */
function gone(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return readFileSync(stat, "utf8").replace(/^.*\) /s, "").startsWith("Z");
  } catch {
    return true;
  }
}

async function pidOf(s: Scheduler, model: string): Promise<number> {
  const pid = (await s.status()).find((m) => m.model === model)?.pid;
  if (pid == null) throw new Error(`Cannot find the pid of model: ${model}`);
  seenPids.push(pid);
  return pid;
}

async function expectGone(pid: number): Promise<void> {
  await poll(() => gone(pid) || undefined, 10, { signal: AbortSignal.timeout(5000) });
}

test("a real Worker starts a real process, grants, unloads and shuts down cleanly", async () => {
  const port = freePort();
  const config = testConfig({
    m: {
      cmd: [process.execPath, "test/fixtures/health-server.ts"],
      env: { PORT: String(port) },
      proxy: `http://127.0.0.1:${port}`,
      checkEndpoint: "/health",
      unloadTimeout: 2,
    },
  });
  scheduler = await createScheduler(config, { manualClock: false, recordFile: null, stateDir, selfCommand: [] });

  const lease = await scheduler.acquire("m");
  expect(lease.upstream).toBe(`http://127.0.0.1:${port}`);
  const res = await fetch(`${lease.upstream}/health`);
  expect(res.status).toBe(200);
  const pid = await pidOf(scheduler, "m");
  lease.release();

  expect(await scheduler.unload("m")).toEqual(["m"]);
  await expectGone(pid);

  (await scheduler.acquire("m")).release();
  const pid2 = await pidOf(scheduler, "m");
  expect(pid2).not.toBe(pid);
  await scheduler.shutdown(0);
  await expectGone(pid2);
  expect((await scheduler.status()).map((m) => m.state)).toEqual(["shutdown"]);
}, 20_000);
