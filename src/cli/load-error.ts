/**
 * How a config that did not load is reported, the same way by `validate` and
 * by `serve`'s config loader child (kept apart from both so neither imports the other).
 */
import type { Io } from "./io.ts";

/**
 * Prints why `file` did not load: a ConfigError's lines as they are (they
 * already name file, line and column), anything else on one line.
 */
export function reportLoadError(file: string, configError: boolean, message: string, io: Io): void {
  if (configError) {
    for (const line of message.split("\n")) if (line.trim() !== "") io.err(line);
  } else {
    io.err(`modelswap: cannot load config ${file}: ${message}`);
  }
}
