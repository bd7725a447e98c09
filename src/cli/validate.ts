/**
 * `modelswap validate`: load a config exactly as `serve` would, report every
 * problem, start nothing.
 */
import { ConfigError, loadConfigFile, parseConfigText } from "../config/index.ts";
import type { Config } from "../config/types.ts";
import { processIo, type Io } from "./io.ts";
import { selfCommand } from "../lib/self.ts";
import { reportLoadError } from "./load-error.ts";

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `3 models, 1 group, 0 peers`. */
export function summarize(config: Config): string {
  return [
    plural(Object.keys(config.models).length, "model"),
    plural(Object.keys(config.groups).length, "group"),
    plural(Object.keys(config.peers).length, "peer"),
  ].join(", ");
}

/**
 * Loads `file`, or prints why it cannot be loaded; the error text never
 * includes a stack trace. Returns the config or null.
 */
export async function loadOrReport(file: string, io: Io, text?: string): Promise<Config | null> {
  try {
    const options = { selfCommand: selfCommand() };
    return text === undefined ? loadConfigFile(file, options) : parseConfigText(text, file, options);
  } catch (error) {
    reportLoadError(file, error instanceof ConfigError, error instanceof Error ? error.message : String(error), io);
    return null;
  }
}

/**
 * Runs `modelswap validate --config FILE` and returns the exit status:
 * 0 and a one-line summary on stdout (warnings on stderr), or 1 and every error.
 */
export async function validate(file: string, io: Io = processIo): Promise<number> {
  const config = await loadOrReport(file, io);
  if (!config) return 1;
  for (const w of config.warnings) io.err(`warning: ${w}`);
  io.out(`${file}: OK, ${summarize(config)}`);
  return 0;
}
