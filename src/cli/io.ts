/**
 * Where subcommands write: an interface so tests can capture output
 * without spawning a process.
 */
import { writeStderr, writeStdout } from "../lib/stdio.ts";

/** Line-oriented stdout and stderr. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Writes to the process's stdout and stderr (through `lib/stdio.ts`: see there why not `process.stdout`). */
export const processIo: Io = {
  out: (line) => writeStdout(`${line}\n`),
  err: (line) => writeStderr(`${line}\n`),
};
