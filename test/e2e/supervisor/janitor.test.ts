/**
 * The GC pass (src/supervisor/janitor.ts) with real processes: what carries
 * a stopped spawn's token is killed, records whose process is gone are
 * removed, live ones stay, and passes run on their own.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { GROUP_TOKEN_ENV, tokenHolders } from "../../../src/supervisor/leftovers.ts";
import { Janitor } from "../../../src/supervisor/janitor.ts";
import { recordPath, writePidRecord } from "../../../src/supervisor/pid-record.ts";
import { isAlive, readProcStat } from "../../../src/supervisor/process-tree.ts";
import { removeTempDirs, tempStateDir, waitFor, waitGone } from "./helpers.ts";

afterAll(removeTempDirs);
const started: number[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

/** A `sleep` carrying `token`, in a session of its own (as a setsid escapee would be). */
async function holder(token: string): Promise<number> {
  const proc = Bun.spawn({ cmd: ["setsid", "sleep", "1000"], env: { ...process.env, [GROUP_TOKEN_ENV]: token } });
  started.push(proc.pid);
  // Settled: `setsid` has exec'd `sleep` (in the middle of an exec /proc/PID/environ cannot be read, and a pass
  // would miss the holder: seen under load), in its own session, and a pass can see its token.
  const settled = () => {
    try {
      return readFileSync(`/proc/${proc.pid}/comm`, "utf8").trim() === "sleep" && readProcStat(proc.pid)?.session === proc.pid && tokenHolders(token).includes(proc.pid);
    } catch {
      return false;
    }
  };
  await waitFor(() => (settled() ? true : undefined));
  return proc.pid;
}

describe("Janitor", () => {
  test("a pass kills what carries a retired spawn's token, and forgets the token once none is left", async () => {
    const lines: string[] = [];
    const gc = new Janitor(tempStateDir(), (l) => lines.push(l));
    const token = `gc-${process.pid}-${Date.now()}`;
    const pid = await holder(token);
    gc.retire(null, token);
    expect(gc.pass().killed).toBe(1);
    await waitGone([pid]);
    expect(lines).toEqual(["gc: killed 1 process(es) left by stopped model servers"]);
    expect(gc.pass().killed).toBe(0);
  });

  test("records of processes that are gone are removed; a live spawn's record stays", async () => {
    const dir = tempStateDir();
    const gc = new Janitor(dir, () => undefined);
    const gone = Bun.spawn({ cmd: ["true"] });
    await gone.exited;
    writePidRecord(dir, { pid: gone.pid, pgid: gone.pid, startTime: 1, model: "m", argv: [], token: "" });
    const live = Bun.spawn({ cmd: ["sleep", "1000"] });
    started.push(live.pid);
    gc.spawned(live.pid);
    writePidRecord(dir, { pid: live.pid, pgid: live.pid, startTime: readProcStat(live.pid)!.startTime, model: "n", argv: [], token: "" });
    expect(gc.pass()).toEqual({ killed: 0, records: 1, temps: 0 });
    expect(existsSync(recordPath(dir, gone.pid))).toBe(false);
    expect(existsSync(recordPath(dir, live.pid))).toBe(true);
  });

  test("passes run on their own every interval", async () => {
    const gc = new Janitor(tempStateDir(), () => undefined);
    const token = `gc-timer-${process.pid}-${Date.now()}`;
    const pid = await holder(token);
    gc.retire(null, token);
    const stop = gc.start(20);
    try {
      await waitGone([pid]);
    } finally {
      stop();
    }
  });

  test("a pass over a state dir that does not exist reports nothing and never throws", () => {
    const gc = new Janitor("/nonexistent/modelswap-state", () => undefined);
    expect(gc.pass()).toEqual({ killed: 0, records: 0, temps: 0 });
  });
});
