/**
 * Loads the config for `serve` in a throwaway child process
 * (`modelswap __load-config`), so the schema library, the YAML parser, the
 * parse garbage and the code pages of Bun they touch never live in the
 * proxy's process. A throwaway Worker kept them out of the main thread's
 * heap, but what it touched stayed in the process (measured on Bun 1.4.5,
 * against the Worker: RSS at the first answer 57-61 → 52-53 MB, of which
 * 1.4 MB of Bun's code pages). Falls back to loading in place when the child
 * cannot run.
 */
import type { Config } from "../config/types.ts";
import type { PreviousPorts } from "../config/ports.ts";
import { selfCommand } from "../lib/self.ts";
import type { Io } from "./io.ts";
import { reportLoadError } from "./load-error.ts";
import { describeTarget, targetOf, type ConfigTarget } from "./config-target.ts";

export { describeTarget, targetFor, targetOf, type ConfigTarget } from "./config-target.ts";

/** The hidden first argument that makes modelswap a config loader child (`src/cli/config-child.ts`). */
export const LOAD_CONFIG_COMMAND = "__load-config";

/** Parent → child (on stdin, `bun:jsc` serialized: a structured clone, as a Worker message is). */
export interface LoadRequest {
  target: ConfigTarget;
  /** YAML to parse instead of reading the file (the built-in config); `target.file` then only names it. */
  text?: string;
  selfCommand: string[];
  env: Record<string, string | undefined>;
  /** On a reload: the ports in force (kept for unchanged models). */
  previousPorts?: PreviousPorts;
}

/** Child → parent (on stdout, serialized): the config, or the text to print line by line. */
export type LoadReply = { ok: true; config: Config } | { ok: false; configError: boolean; message: string };

/**
 * Loads `target` like `loadOrReport` (same messages on `io.err`), in a child process that is gone afterwards.
 *
 * @example
 * ```ts
 * const config = await loadConfigIsolated("config.yaml", processIo);
 * if (!config) return 1;
 * ```
 */
export async function loadConfigIsolated(
  target: string | ConfigTarget,
  io: Io,
  text?: string,
  previousPorts?: PreviousPorts,
  ask: (request: LoadRequest) => Promise<LoadReply> = askChild,
): Promise<Config | null> {
  const t = targetOf(target);
  let reply: LoadReply | null;
  try {
    const request: LoadRequest = { target: t, selfCommand: selfCommand(), env: { ...process.env } };
    if (text !== undefined) request.text = text;
    if (previousPorts !== undefined) request.previousPorts = previousPorts;
    reply = await ask(request);
  } catch (error) {
    // Still loaded, in this process: the same config and messages, only the parser's memory stays.
    io.err(`modelswap: warning: ${error instanceof Error ? error.message : String(error)}; loading it in this process instead`);
    reply = null;
  }
  if (reply === null) {
    const { loadOrReport } = await import("./validate.ts");
    return loadOrReport(t, io, text, previousPorts);
  }
  if (reply.ok) return reply.config;
  reportLoadError(describeTarget(t), reply.configError, reply.message, io);
  return null;
}

/** Runs `modelswap __load-config` with `request` and resolves with its reply; rejects when it fails to answer. */
async function askChild(request: LoadRequest): Promise<LoadReply> {
  const { serialize, deserialize } = await import("bun:jsc");
  const child = Bun.spawn([...selfCommand(), LOAD_CONFIG_COMMAND], {
    stdin: new Uint8Array(serialize(request)),
    stdout: "pipe",
    stderr: "pipe",
    env: request.env,
  });
  const [out, err, code] = await Promise.all([new Response(child.stdout).arrayBuffer(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0 || out.byteLength === 0) throw new Error(`Cannot load config in a child process: exit code ${code}: ${err.trim()}`);
  return deserialize(out) as LoadReply;
}
