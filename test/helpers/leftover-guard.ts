/**
 * Preloaded into every `bun test` run (bunfig.toml): marks this test runner's
 * environment with its pid, inherited by every process a test starts and by
 * everything those start (modelswap's model servers, their children), and,
 * after the last test, fails the run if any process carrying the mark is
 * still alive, naming the test that spawned its ancestor
 * (`MODELSWAP_TEST_SITE`, set by `spawnProcess`), then kills it.
 */
import { afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { poll } from "../../src/lib/async.ts";
import { findPids } from "./processes.ts";
import { RUN_MARK, SITE_MARK } from "./test-marks.ts";

const mark = `${RUN_MARK}=${process.pid}`;
process.env[RUN_MARK] = String(process.pid);

interface Marked {
  pid: number;
  cmdline: string;
  site: string;
}

/** Live processes other than this one whose environment carries this run's mark. */
function markedProcesses(): Marked[] {
  const found: Marked[] = [];
  // NULs read as spaces: the trailing one keeps run 12 from matching run 123.
  for (const pid of findPids(`${mark} `, "environ")) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      const site = env.find((v) => v.startsWith(`${SITE_MARK}=`))?.slice(SITE_MARK.length + 1) ?? "unknown";
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
      found.push({ pid, cmdline, site });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

afterAll(async () => {
  if (process.platform !== "linux") return;
  // A process SIGKILLed by the last test's cleanup may still be on its way out: give it a deadline.
  let left: Marked[] = [];
  try {
    await poll(() => ((left = markedProcesses()).length === 0 ? true : undefined), 50, { signal: AbortSignal.timeout(3000) });
    return;
  } catch {
    // Still there: report below.
  }
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  const lines = left.map((p) => `  pid ${p.pid} (spawned under ${p.site}): ${p.cmdline}`);
  throw new Error(`${left.length} process(es) started by this test run outlived it:\n${lines.join("\n")}`);
});
