/**
 * One model entry: macros expanded (before validation, so typed macros can
 * fill typed fields), then `${PORT}`, proxy, argv and defaults resolved.
 */
import { commandText, splitCommand, stripCommandComments } from "./cmd-split.ts";
import type { IssueList } from "./errors.ts";
import { forEachLeftover, macroTable, mergeMacros, substituteDeep, undefinedMacroMessage, type Macro, type MacroValue } from "./macros.ts";
import type { RawModel } from "./schema.ts";
import { COMFYUI_MODEL_ID, type Capabilities, type ModelConfig, type Watchdog } from "./types.ts";
import { parseSize } from "./sizes.ts";
import type { PositionMap, Segment } from "./yaml-positions.ts";

/** True for a YAML mapping (a plain object, not a list or null). */
export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Substitutes MODEL_ID, MODELSWAP, global and model macros in every string of
 * a raw model entry, and in the keys of `filters.setParamsByID`.
 */
export function expandModelMacros(
  id: string,
  raw: Record<string, unknown>,
  globals: readonly Macro[],
  locals: readonly Macro[],
  selfCommand: string,
  positions: PositionMap,
): Record<string, unknown> {
  const builtins: Macro[] = [
    { name: "MODEL_ID", value: id },
    { name: "MODELSWAP", value: selfCommand },
  ];
  const table = macroTable(mergeMacros([...builtins, ...globals], locals));
  const { macros: _ignored, ...rest } = raw;
  // Comments go first, as in llama-swap: a multi-line macro inside a comment must not leak into the command.
  for (const key of ["cmd", "cmdStop"] as const) if (typeof rest[key] === "string") rest[key] = stripCommandComments(rest[key]);
  const out = substituteDeep(rest, table) as Record<string, unknown>;
  const filters = out.filters;
  if (isRecord(filters) && isRecord(filters.setParamsByID)) {
    const renamed: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(filters.setParamsByID)) {
      const newKey = String(substituteDeep(key, table));
      if (newKey !== key) positions.copy(["models", id, "filters", "setParamsByID", key], ["models", id, "filters", "setParamsByID", newKey]);
      renamed[newKey] = value;
    }
    filters.setParamsByID = renamed;
  }
  return out;
}

export interface ModelDefaults {
  globalTTL: number;
  unloadTimeout: number;
  sendLoadingState: boolean;
  watchdog: Watchdog;
}

/** Resolves a validated model entry into the runtime shape; reports problems and returns undefined on any. */
export function resolveModel(
  id: string,
  parsed: RawModel,
  port: number | null,
  defaults: ModelDefaults,
  issues: IssueList,
  slot = 1,
): ModelConfig | undefined {
  const path: Segment[] = ["models", id];
  const before = issues.issues.length;
  const builtins = new Map<string, MacroValue>([["SLOT", slot]]);
  if (port !== null) builtins.set("PORT", port);
  const m = substituteDeep(parsed, builtins) as RawModel;

  if (port === null && m.proxy?.includes("${PORT}")) {
    issues.error([...path, "proxy"], "Use ${PORT} in cmd too, or set a fixed port: ${PORT} is only assigned to models whose cmd uses it");
  }
  forEachLeftover(m, [...path], (at, name) => {
    const field = at[2];
    if (name === "PID" && field === "cmdStop") return;
    if (name === "PORT" && port === null) {
      if (field !== "proxy") issues.error(at, "Use ${PORT} in cmd too: ${PORT} is only assigned to models whose cmd uses it");
      return;
    }
    if (name === "PID") issues.error(at, "Move ${PID} to cmdStop: it is only known when the model is being stopped");
    else if (name.startsWith("env.")) return; // already reported where the file was read
    else issues.error(at, undefinedMacroMessage(name));
  });
  for (const key of Object.keys(m.filters.setParamsByID)) {
    forEachLeftover(key, [...path, "filters", "setParamsByID", key], (at, name) =>
      issues.error(at, undefinedMacroMessage(name), "key"),
    );
  }

  let proxy = m.proxy;
  if (proxy === undefined) {
    if (port === null) {
      issues.error(path, "Set `proxy`: cmd does not use ${PORT}, so the address the server listens on is unknown", "key");
    }
    proxy = `http://127.0.0.1:${port ?? 0}`;
  } else if (!(port === null && proxy.includes("${PORT}")) && !isHttpUrl(proxy)) {
    issues.error([...path, "proxy"], `Expected an http:// or https:// URL: got ${JSON.stringify(proxy)}`);
  }

  const argv = splitOrReport(m.cmd, [...path, "cmd"], issues);
  const stopArgv = m.cmdStop.trim() === "" ? null : splitOrReport(m.cmdStop, [...path, "cmdStop"], issues);
  if (argv?.length === 0) issues.error([...path, "cmd"], "Expected a command: cmd has only comments or spaces");

  if (issues.issues.length > before || argv === undefined || stopArgv === undefined) return undefined;

  const env: Record<string, string> = {};
  for (const entry of m.env) {
    const eq = entry.indexOf("=");
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const aliases = [...m.aliases];
  for (const key of Object.keys(m.filters.setParamsByID)) if (key !== id && !aliases.includes(key)) aliases.push(key);

  return {
    id,
    cmd: argv,
    cmdText: commandText(m.cmd),
    cmdStop: stopArgv,
    proxy: proxy.replace(/\/+$/, ""),
    checkEndpoint: m.checkEndpoint === "none" ? null : m.checkEndpoint,
    port,
    ttl: m.ttl === -1 ? defaults.globalTTL : m.ttl,
    unloadTimeout: m.unloadTimeout === 0 ? defaults.unloadTimeout : m.unloadTimeout,
    env,
    aliases,
    useModelName: m.useModelName,
    filters: {
      stripParams: splitParamList(m.filters.stripParams),
      setParams: m.filters.setParams,
      setParamsByID: m.filters.setParamsByID,
    },
    unlisted: m.unlisted,
    concurrencyLimit: id === COMFYUI_MODEL_ID ? Math.max(COMFYUI_CONCURRENCY, m.concurrencyLimit) : m.concurrencyLimit === 0 ? 10 : m.concurrencyLimit,
    sendLoadingState: m.sendLoadingState ?? defaults.sendLoadingState,
    timeouts: {
      connect: m.timeouts.connect,
      keepalive: m.timeouts.keepalive,
      responseHeader: m.timeouts.responseHeader,
      tlsHandshake: m.timeouts.tlsHandshake,
      idleConn: m.timeouts.idleConn,
    },
    capabilities: capabilities(m.capabilities),
    metadata: m.metadata,
    name: m.name,
    description: m.description,
    ignoreWebsockets: id === COMFYUI_MODEL_ID || m.compat.ignoreWebsockets,
    resources: { vram: parseSize(m.resources?.vram ?? 0), ram: parseSize(m.resources?.ram ?? 0) },
    replicas: [],
    replicaOf: null,
    watchdog: {
      stallTimeout: m.watchdog?.stallTimeout ?? defaults.watchdog.stallTimeout,
      busyTimeout: m.watchdog?.busyTimeout ?? defaults.watchdog.busyTimeout,
    },
  };
}

/** llama-swap's floor for comfyui_auto's concurrency: a ComfyUI page opens many requests at once. */
const COMFYUI_CONCURRENCY = 50;

/** `"temperature, top_p"` → `["temperature", "top_p"]`, never `model`. */
export function splitParamList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(",")) {
    const name = part.trim();
    if (name !== "" && name !== "model" && !out.includes(name)) out.push(name);
  }
  return out;
}

/** True for absolute http(s) URLs. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const u = new URL(text);
  return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
}

function splitOrReport(text: string, path: Segment[], issues: IssueList): string[] | undefined {
  try {
    return splitCommand(text);
  } catch (e) {
    issues.error(path, (e as Error).message);
    return undefined;
  }
}

function capabilities(c: RawModel["capabilities"]): Capabilities | null {
  if (c === undefined) return null;
  const empty = c.in.length === 0 && c.out.length === 0 && !c.tools && !c.reranker && c.context === 0;
  return empty ? null : { in: c.in, out: c.out, tools: c.tools, reranker: c.reranker, context: c.context };
}
