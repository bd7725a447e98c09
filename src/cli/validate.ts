/**
 * `modelswap validate`: load a config exactly as `serve` would, report every
 * problem, start nothing.
 */
import { ConfigError, loadConfigSources, parseConfigText } from "../config/index.ts";
import type { Config } from "../config/types.ts";
import { processIo, type Io } from "./io.ts";
import { selfCommand } from "../lib/self.ts";
import { describeTarget, targetFor, targetOf, type ConfigTarget } from "./config-target.ts";
import { reportLoadError } from "./load-error.ts";
import type { ValidateOptions } from "./args.ts";

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
 * Loads `target`, or prints why it cannot be loaded; the error text never
 * includes a stack trace. Returns the config or null.
 */
export async function loadOrReport(target: string | ConfigTarget, io: Io, text?: string): Promise<Config | null> {
  const t = targetOf(target);
  try {
    const options = { selfCommand: selfCommand(), strict: t.strict === true, checkExecutables: t.checkExecutables === true };
    return text === undefined ? loadConfigSources(t, options) : parseConfigText(text, t.file ?? "<embedded>", options);
  } catch (error) {
    reportLoadError(describeTarget(t), error instanceof ConfigError, error instanceof Error ? error.message : String(error), io);
    return null;
  }
}

/**
 * Runs `modelswap validate [FILE] [--config-dir DIR] [--strict]` and returns
 * the exit status: 0 and a one-line summary on stdout (warnings on stderr,
 * unknown keys among them), or 1 and every error.
 */
export async function validate(options: ValidateOptions, io: Io = processIo): Promise<number> {
  const target = { ...targetFor(options), checkExecutables: true };
  const config = await loadOrReport(target, io);
  if (!config) return 1;
  for (const w of config.warnings) io.err(`warning: ${w}`);
  io.out(`${describeTarget(target)}: OK, ${summarize(config)}`);
  return 0;
}
