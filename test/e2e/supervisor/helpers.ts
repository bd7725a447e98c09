/** Shared helpers of the supervisor tests: free ports, temp state dirs, waiting for processes to be gone. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poll } from "../../../src/lib/async.ts";
import type { ProcessSpec } from "../../../src/supervisor/model-process.ts";
import { groupMembers } from "../../../src/supervisor/process-tree.ts";
import { waitGone as waitPidGone } from "../../helpers/processes.ts";

export { BUN, freePort } from "../../helpers/processes.ts";

const tempDirs: string[] = [];
/** Removes every directory `tempStateDir` made; call from `afterAll`. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh state directory, removed by `removeTempDirs`. */
export function tempStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "modelswap-sv-"));
  tempDirs.push(dir);
  return dir;
}

export function spec(over: Partial<ProcessSpec> & Pick<ProcessSpec, "argv">): ProcessSpec {
  return { model: "m", env: {}, checkUrl: null, stopArgv: null, stateDir: tempStateDir(), ...over };
}

/** Resolves once every pid is gone (missing or zombie); rejects after `ms`. */
export async function waitGone(pids: number[], ms = 30_000): Promise<void> {
  await Promise.all(pids.map((pid) => waitPidGone(pid, ms)));
}

/** Resolves once group `pgid` has no live member; rejects after `ms`. */
export function waitGroupGone(pgid: number, ms = 30_000): Promise<true> {
  return poll(() => (groupMembers(pgid).length === 0 ? true : undefined), 10, { signal: AbortSignal.timeout(ms) });
}

/** Resolves with `value()` once it is not undefined; rejects after `ms`. */
export function waitFor<T>(value: () => T | undefined, ms = 5000): Promise<T> {
  return poll(value, 10, { signal: AbortSignal.timeout(ms) });
}

export const FIXTURES = join(import.meta.dir, "../../fixtures");
