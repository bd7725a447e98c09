/** Shared helpers for config tests: load YAML text, catch the ConfigError. */
import { ConfigError, parseConfigText, type Config, type ConfigIssue } from "../../../src/config/index.ts";

export const SELF = ["/opt/modelswap/modelswap"];

/** Parses YAML text as "test.yaml" with a fixed environment. */
export function load(text: string, env: Record<string, string | undefined> = {}, strict = false): Config {
  return parseConfigText(text, "test.yaml", { selfCommand: SELF, env, strict });
}

/** The issues a bad config produces (fails the test if it loads). */
export function issuesOf(text: string, env: Record<string, string | undefined> = {}, strict = false): ConfigIssue[] {
  try {
    load(text, env, strict);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error("Expected the config to be rejected: it loaded");
}

/** The only issue a bad config produces. */
export function onlyIssue(text: string, env: Record<string, string | undefined> = {}, strict = false): ConfigIssue {
  const all = issuesOf(text, env, strict);
  if (all.length !== 1) throw new Error(`Expected exactly one issue: got ${all.length}\n${all.map((i) => JSON.stringify(i)).join("\n")}`);
  return all[0] as ConfigIssue;
}
