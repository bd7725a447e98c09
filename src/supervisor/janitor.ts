/**
 * The periodic GC pass (the seed's GC thread): every 30 s, and once after
 * every stop, reconciles the state directory with reality. Processes that
 * carry the spawn token of a model server that was stopped (a descendant
 * that left its group with `setsid` after the stop looked) are killed;
 * records whose process is gone are removed; stale temporary files go.
 * A pass never throws and never stops the passes after it: an error is
 * logged and the next pass runs.
 */
import { rmSync } from "node:fs";
import { listPidRecords, readPidRecord } from "./pid-record.ts";
import { isAlive, signalPid } from "./process-tree.ts";
import { removeStaleTemps, tokenHolders } from "./leftovers.ts";

/** How often the GC pass runs on its own. */
export const GC_INTERVAL_MS = 30_000;

/** What one pass did. */
export interface GcReport {
  killed: number;
  records: number;
  temps: number;
}

/**
 * The GC of one state directory, owned by the scheduler Worker.
 *
 * @example
 * ```ts
 * const gc = new Janitor(stateDir, (line) => log(line));
 * const stop = gc.start();
 * gc.retire(token); // a model server stopped: its token must have no holder left
 * ```
 */
export class Janitor {
  readonly #stateDir: string;
  readonly #log: (line: string) => void;
  /** Tokens of stopped spawns whose holders are killed on sight; dropped after a pass finds none. */
  readonly #retired = new Set<string>();
  /** Pids this process spawned and still runs: their records are live. */
  readonly #live = new Set<number>();

  constructor(stateDir: string, log: (line: string) => void) {
    this.#stateDir = stateDir;
    this.#log = log;
  }

  /** A model server was spawned (`pid`): its record is live until `retire`. */
  spawned(pid: number): void {
    this.#live.add(pid);
  }

  /** The server `pid` with `token` was stopped: from now on nothing may carry its token. */
  retire(pid: number | null, token: string): void {
    if (pid !== null) this.#live.delete(pid);
    if (token !== "") this.#retired.add(token);
  }

  /** One pass; never throws. */
  pass(): GcReport {
    const report: GcReport = { killed: 0, records: 0, temps: 0 };
    try {
      for (const token of [...this.#retired]) {
        const holders = tokenHolders(token);
        for (const pid of holders) if (signalPid(pid, "SIGKILL") === "sent") report.killed++;
        if (holders.length === 0) this.#retired.delete(token);
      }
      for (const path of listPidRecords(this.#stateDir)) {
        const record = readPidRecord(path);
        if (record === null || this.#live.has(record.pid)) continue;
        if (isAlive(record.pid) || tokenHolders(record.token).length > 0) continue;
        rmSync(path, { force: true });
        report.records++;
      }
      report.temps = removeStaleTemps(this.#stateDir);
      if (report.killed > 0) this.#log(`gc: killed ${report.killed} process(es) left by stopped model servers`);
    } catch (error) {
      this.#log(`gc: pass failed, next in ${GC_INTERVAL_MS / 1000} s: ${error instanceof Error ? error.message : String(error)}`);
    }
    return report;
  }

  /** Runs a pass every `intervalMs` (real time, unref'd); returns the function that stops it. */
  start(intervalMs = GC_INTERVAL_MS): () => void {
    const timer = setInterval(() => this.pass(), intervalMs);
    (timer as { unref?: () => void }).unref?.();
    return () => clearInterval(timer);
  }
}
