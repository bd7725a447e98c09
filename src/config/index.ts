/**
 * The config subsystem's one door: load a llama-swap-compatible YAML file
 * into the resolved `Config`, or fail with every problem positioned.
 */
import { z } from "zod";
import { configSchema } from "./schema.ts";

export { loadConfigFile, loadConfigSources, parseConfigText, parseConfigTexts, type ConfigSources, type LoadOptions, type SourceText } from "./load.ts";
export { ConfigError, formatIssue, type ConfigIssue } from "./errors.ts";
export { splitCommand, joinCommand } from "./cmd-split.ts";
export type * from "./types.ts";

/**
 * The JSON Schema of the config file, for editors (`npm run schema` writes it
 * to config-schema.json).
 */
export function configJsonSchema(): object {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any", target: "draft-7" });
  return {
    ...schema,
    $id: "modelswap-config-schema.json",
    title: "modelswap configuration",
    description: "Configuration file for modelswap, a superset of llama-swap's config.yaml",
  };
}
