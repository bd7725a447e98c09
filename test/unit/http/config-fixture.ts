/**
 * `Config` objects for HTTP tests: the shared fixture with a model server
 * address that looks like a real one, and names the HTTP tests use.
 */
import type { Config, ModelConfig } from "../../../src/config/types.ts";
import { modelConfig, testConfig } from "../../helpers/config-fixture.ts";

export { peerConfig as peer } from "../../helpers/config-fixture.ts";

const serverDefaults: Partial<ModelConfig> = {
  cmd: ["llama-server", "--port", "9999"],
  cmdText: "llama-server --port 9999",
  proxy: "http://127.0.0.1:9999",
};

/** One model with every field filled in. */
export function model(id: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return modelConfig(id, { ...serverDefaults, ...over });
}

/** A config with the given models keyed by id. */
export function config(models: Record<string, Partial<ModelConfig>>, over: Partial<Config> = {}): Config {
  const withDefaults = Object.fromEntries(Object.entries(models).map(([id, m]) => [id, { ...serverDefaults, ...m }]));
  return testConfig(withDefaults, { shutdownTimeout: 5, ...over });
}
