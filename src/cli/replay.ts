/**
 * `modelswap replay FILE [--check]`: feeds a `serve --record` file back
 * through a fresh scheduler core (src/scheduler/replay.ts does the work) and
 * prints what it decided; `--check` fails when a decision differs from the
 * recorded one.
 */
import { readFileSync } from "node:fs";
import { replay } from "../scheduler/replay.ts";
import { processIo, type Io } from "./io.ts";

/**
 * Runs the replay and returns the exit status: 0, or 1 on a read/parse error
 * or (with `check`) on any mismatch.
 */
export function runReplay(file: string, check: boolean, io: Io = processIo): number {
  let decisions: ReturnType<typeof replay>;
  try {
    decisions = replay(readFileSync(file, "utf8").split("\n"), null);
  } catch (error) {
    io.err(`modelswap: cannot replay ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const mismatches = decisions.filter((d) => d.mismatch);
  if (check) {
    for (const d of mismatches) {
      io.err(`mismatch: event ${JSON.stringify(d.event)}`);
      io.err(`  recorded: ${JSON.stringify(d.recorded)}`);
      io.err(`  replayed: ${JSON.stringify(d.effects)}`);
    }
  } else {
    for (const d of decisions) io.out(JSON.stringify({ event: d.event, effects: d.effects }));
  }
  io.out(`${file}: ${decisions.length} events replayed, ${mismatches.length} mismatches`);
  return check && mismatches.length > 0 ? 1 : 0;
}
