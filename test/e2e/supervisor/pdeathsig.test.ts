import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findSetpriv } from "../../../src/supervisor/launch.ts";
import { readLines } from "../../../src/supervisor/read-lines.ts";
import { isAlive, readProcStat, signalGroup } from "../../../src/supervisor/process-tree.ts";
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
      expect(isAlive(child)).toBe(true);
      expect(readProcStat(child)?.ppid).toBe(parent.pid);
      // setpriv sets the parent-death signal, then execs the server: killing the parent before that (a loaded
      // machine can be that slow) leaves nothing to fire. Once the pid runs `sleep`, the signal is armed.
      await waitFor(() => (readFileSync(`/proc/${child}/comm`, "utf8").trim() === "sleep" ? true : undefined), 10_000);
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
