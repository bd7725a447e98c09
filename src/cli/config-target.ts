/**
 * What `serve` and `validate` load: `--config`, `--config-dir` (merged), and
 * how strictly (kept apart from both loaders so neither imports the other).
 */

/** What to load: `--config`, `--config-dir` (merged), and how strictly. */
export interface ConfigTarget {
  file: string | null;
  dir: string | null;
  /** Unknown keys are errors. */
  strict?: boolean;
  /** Warn about models whose program is not on PATH. */
  checkExecutables?: boolean;
}

/** A plain file name means that file alone, leniently. */
export const targetOf = (target: string | ConfigTarget): ConfigTarget => (typeof target === "string" ? { file: target, dir: null } : target);

/** `--config-dir` alone reads only the folder; otherwise `--config` (default config.yaml) comes first. */
export function targetFor(options: { config: string; configGiven: boolean; configDir: string | null; strict: boolean }): ConfigTarget {
  const file = options.configGiven || options.configDir === null ? options.config : null;
  return { file, dir: options.configDir, strict: options.strict };
}

/** How errors name what was loaded: the file, the folder, or both. */
export function describeTarget(target: ConfigTarget): string {
  return [target.file, target.dir].filter((x) => x !== null).join(" + ");
}
