/**
 * A throwaway Worker that loads the config file and posts the result back
 * (why: zod, the YAML parser and their garbage cost ~9 MB of RSS that stays in
 * the thread that loaded them; here they go away with this Worker).
 */
import type { LoadReply, LoadRequest } from "../src/cli/config-worker.ts";
import { ConfigError, loadConfigSources, parseConfigText } from "../src/config/index.ts";

declare const self: { postMessage(m: LoadReply): void; addEventListener(type: "message", l: (e: MessageEvent) => void): void };

self.addEventListener("message", (e: MessageEvent) => {
  const { target, text, selfCommand, env } = e.data as LoadRequest;
  try {
    const options = { selfCommand, env, strict: target.strict === true, checkExecutables: target.checkExecutables === true };
    const config = text === undefined ? loadConfigSources(target, options) : parseConfigText(text, target.file ?? "<embedded>", options);
    self.postMessage({ ok: true, config });
  } catch (error) {
    self.postMessage({ ok: false, configError: error instanceof ConfigError, message: error instanceof Error ? error.message : String(error) });
  }
});
