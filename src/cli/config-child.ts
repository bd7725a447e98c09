/**
 * `modelswap __load-config`, the child `serve` loads its config in
 * (`config-process.ts`): reads a serialized `LoadRequest` on stdin, writes a
 * serialized `LoadReply` on stdout, and exits 0 (a config with errors is a
 * reply too; a non-zero exit means no reply).
 */
import { deserialize, serialize } from "bun:jsc";
import type { LoadReply, LoadRequest } from "./config-process.ts";
import { ConfigError, loadConfigSources, parseConfigText } from "../config/index.ts";

/** Answers one request; resolves with the exit status. */
export async function runConfigChild(): Promise<number> {
  const { target, text, selfCommand, env, previousPorts } = deserialize(await Bun.stdin.arrayBuffer()) as LoadRequest;
  let reply: LoadReply;
  try {
    const options = {
      selfCommand,
      env,
      strict: target.strict === true,
      checkExecutables: target.checkExecutables === true,
      ...(previousPorts === undefined ? {} : { previousPorts }),
    };
    const config = text === undefined ? loadConfigSources(target, options) : parseConfigText(text, target.file ?? "<embedded>", options);
    reply = { ok: true, config };
  } catch (error) {
    reply = { ok: false, configError: error instanceof ConfigError, message: error instanceof Error ? error.message : String(error) };
  }
  await Bun.write(Bun.stdout, new Uint8Array(serialize(reply)));
  return 0;
}
