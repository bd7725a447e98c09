/**
 * Where subcommands write: an interface so tests can capture output
 * without spawning a process.
 */

/** Line-oriented stdout and stderr. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Writes to the process's stdout and stderr. */
export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
