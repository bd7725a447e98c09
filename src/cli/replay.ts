/**
 * `modelswap replay FILE [--check]`: feeds a `serve --record` file back
 * through the scheduler core (the work is done by src/scheduler/replay.ts).
 */
import { replay } from "../scheduler/replay.ts";

/** Runs the replay and returns its exit status; errors become one line on stderr. */
export async function runReplay(file: string, check: boolean): Promise<number> {
  try {
    return await replay(file, { check });
  } catch (error) {
    process.stderr.write(`modelswap: cannot replay ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
