import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { findPids } from "../../helpers/processes.ts";
import { findSetpriv, launchArgv, ORPHANED_LAUNCH_STATUS } from "../../../src/supervisor/launch.ts";
import { readLines } from "../../../src/supervisor/read-lines.ts";
import { signalGroup } from "../../../src/supervisor/process-tree.ts";
import { BUN, FIXTURES, tempStateDir, waitFor, waitGone, waitGroupGone, removeTempDirs } from "./helpers.ts";

afterAll(removeTempDirs);

test.skipIf(findSetpriv() === null)(
  "a model server started from a Worker dies with a SIGKILLed modelswap (setpriv --pdeathsig)",
  async () => {
    const parent = Bun.spawn({
      cmd: [BUN, join(FIXTURES, "pdeathsig-parent.ts")],
      env: { ...process.env, STATE_DIR: tempStateDir() },
      stdout: "pipe",
      stderr: "inherit",
    });
    const lines: string[] = [];
    void readLines(parent.stdout, (l) => lines.push(l));
    let child = 0;
    try {
      child = await waitFor(() => {
        const line = lines.find((l) => l.startsWith("pid "));
        return line === undefined ? undefined : Number(line.slice(4));
      }, 10_000);
      // Killed at once, maybe before setpriv armed the signal (a loaded machine takes tens of ms to get
      // there): the launch guard sees its parent gone and never starts the server.
      parent.kill("SIGKILL");
      await parent.exited;
      await waitGone([child]);
    } finally {
      parent.kill("SIGKILL");
      if (child > 0) {
        signalGroup(child, "SIGKILL");
        await waitGroupGone(child);
      }
    }
  },
  60_000,
);

test.skipIf(findSetpriv() === null)("a launch whose parent is not the one it names exits 125 without starting the server", async () => {
  const run = async (parentPid: number) => {
    const p = Bun.spawn({ cmd: launchArgv(["sh", "-c", "echo started"], process.env, parentPid), stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return { out, code };
  };
  // Its parent is this test runner: a launch naming any other pid behaves as one whose modelswap died.
  expect(await run(process.pid === 1 ? 2 : 1)).toEqual({ out: "", code: ORPHANED_LAUNCH_STATUS });
  expect(await run(process.pid)).toEqual({ out: "started\n", code: 0 });
});

test.skipIf(findSetpriv() === null)("a model server being spawned as modelswap is SIGKILLed does not outlive it", async () => {
  // Each round kills the fixture at a random moment of its spawn loop; some land inside a spawn.
  const mark = `sudden-${process.pid}-${Date.now()}`;
  const marked = () => findPids(`SUDDEN_MARK=${mark}`, "environ");
  try {
    for (let round = 0; round < 10; round++) {
      const parent = Bun.spawn({ cmd: [BUN, join(FIXTURES, "pdeathsig-sudden.ts")], env: { ...process.env, SUDDEN_MARK: mark }, stdout: "pipe", stderr: "inherit" });
      const lines: string[] = [];
      void readLines(parent.stdout, (l) => lines.push(l));
      await waitFor(() => (lines.includes("spawning") ? true : undefined), 10_000);
      await Bun.sleep(Math.random() * 20);
      parent.kill("SIGKILL");
      await parent.exited;
    }
    // A launch caught by the kill is on its way out (the guard exits 125, or the armed signal lands), and one
    // between fork and exec shows no environment for an instant: empty on three scans in a row is settled.
    let emptyScans = 0;
    await waitFor(() => ((emptyScans = marked().length === 0 ? emptyScans + 1 : 0) >= 3 ? true : undefined), 10_000).catch(() => {});
    expect(marked()).toEqual([]);
  } finally {
    for (const pid of marked()) process.kill(pid, "SIGKILL");
  }
});
