/**
 * A throwaway Worker that loads the config file and posts the result back
 * (why: zod, the YAML parser and their garbage cost ~9 MB of RSS that stays in
 * the thread that loaded them; here they go away with this Worker).
 */
import type { LoadReply, LoadRequest } from "../src/cli/config-worker.ts";
import { ConfigError, loadConfigFile, parseConfigText } from "../src/config/index.ts";

declare const self: { postMessage(m: LoadReply): void; addEventListener(type: "message", l: (e: MessageEvent) => void): void };

self.addEventListener("message", (e: MessageEvent) => {
  const { file, text, selfCommand, env, previousPorts } = e.data as LoadRequest;
  try {
    const options = previousPorts === undefined ? { selfCommand, env } : { selfCommand, env, previousPorts };
    const config = text === undefined ? loadConfigFile(file, options) : parseConfigText(text, file, options);
    self.postMessage({ ok: true, config });
  } catch (error) {
    self.postMessage({ ok: false, configError: error instanceof ConfigError, message: error instanceof Error ? error.message : String(error) });
  }
});
