/**
 * The loading pipeline: YAML with positions → `${env.VAR}` → legacy
 * spellings → macros → zod → resolved Config. Every stage adds to one issue
 * list so a bad file is reported completely, not one error per run.
 */
import { readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { parse as parseYamlScalar } from "yaml";
import { joinCommand } from "./cmd-split.ts";
import type { z } from "zod";
import { ConfigError, formatPath, IssueList } from "./errors.ts";
import { macroTable, readMacros, substituteDeep, substituteEnv } from "./macros.ts";
import { expandModelMacros, isRecord } from "./models.ts";
import { resolveConfig } from "./resolve.ts";
import type { PreviousPorts } from "./ports.ts";
import { reportZodIssues } from "./schema-issues.ts";
import { configSchema } from "./schema.ts";
import type { Config } from "./types.ts";
import { parseYamlWithPositions, type PositionMap, type Segment } from "./yaml-positions.ts";

export interface LoadOptions {
  /** argv that runs this program; substituted for ${MODELSWAP} (joined with spaces, each part shell-quoted if needed). */
  selfCommand: string[];
  /** Environment for ${env.VAR}; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** On a reload: the ports in force, kept for models that still use ${PORT}. */
  previousPorts?: PreviousPorts;
}

/**
 * Reads and resolves a config file.
 *
 * @example const config = loadConfigFile("config.yaml", { selfCommand: [process.execPath] });
 * @throws {ConfigError} listing every problem, each with file:line:column and key path
 */
export function loadConfigFile(path: string, options: LoadOptions): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new ConfigError([{ file: path, line: 1, column: 1, path: "", message: `Cannot read the config file: ${reason}` }]);
  }
  return { ...parseConfigText(text, path, options), file: resolvePath(path) };
}

/**
 * Parses and resolves config text; `file` names it in errors and in `Config.file`.
 *
 * @throws {ConfigError} listing every problem found
 */
export function parseConfigText(text: string, file: string, options: LoadOptions): Config {
  const env = options.env ?? process.env;
  const missingEnv: Array<{ path: Segment[]; name: string }> = [];
  const parsed = parseYamlWithPositions(text, (s, path, plain) => {
    if (!s.includes("${env.")) return s;
    const names: string[] = [];
    const out = substituteEnv(s, env, names);
    for (const name of names) missingEnv.push({ path: [...path], name });
    return plain && out !== s ? retype(out) : out;
  });
  const issues = new IssueList(file, parsed.positions);
  for (const e of parsed.errors) issues.errorAt(e.pos, e.message);
  issues.throwIfAny();
  for (const { path, name } of missingEnv) issues.error(path, `Set the environment variable \`${name}\`: it is not set`);

  const root = parsed.value ?? {};
  if (!isRecord(root)) {
    issues.error([], "Expected a mapping of settings at the top of the file");
    issues.throwIfAny();
    throw new ConfigError(issues.issues);
  }
  applyLegacySpellings(root, issues, parsed.positions);
  expandMacros(root, joinCommand(options.selfCommand), issues, parsed.positions);

  const result = configSchema.safeParse(root, { reportInput: true });
  if (!result.success) {
    reportZodIssues(configSchema, result.error, issues);
    reportBeyondSchemaErrors(root, result.error, file, issues, parsed.positions);
    throw new ConfigError(issues.issues);
  }
  const config = resolveConfig(result.data, file, issues, options.previousPorts);
  issues.throwIfAny();
  return config;
}

/**
 * After schema errors, removes the offending values and resolves the rest, so
 * one run reports later-stage problems too; issues overlapping a removed
 * value are dropped as likely consequences of the removal.
 */
function reportBeyondSchemaErrors(root: Record<string, unknown>, error: z.ZodError, file: string, issues: IssueList, positions: PositionMap): void {
  const removed: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path as Segment[];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) removed.push(removeAt(root, [...path, key]));
    } else {
      removed.push(removeAt(root, path));
    }
  }
  const second = configSchema.safeParse(root);
  if (second.success) {
    const later = new IssueList(file, positions);
    resolveConfig(second.data, file, later);
    const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
    for (const i of later.issues) if (!removed.some((r) => overlaps(i.path, r) || overlaps(r, i.path))) issues.issues.push(i);
  }
  issues.throwIfAny();
}

function removeAt(root: Record<string, unknown>, path: readonly Segment[]): string {
  let parent: unknown = root;
  for (const seg of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | null)?.[seg];
  const last = path[path.length - 1];
  if (last !== undefined && parent !== null && typeof parent === "object") {
    if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1, undefined);
    else delete (parent as Record<string, unknown>)[String(last)];
  }
  return formatPath(path);
}

/** An unquoted `${env.X}` takes the type its text has in YAML (`ttl: ${env.TTL}` → a number). */
function retype(text: string): unknown {
  try {
    const v: unknown = parseYamlScalar(text);
    return typeof v === "number" || typeof v === "boolean" ? v : text;
  } catch {
    return text;
  }
}

/** Accepts spellings still found in llama-swap users' files. */
function applyLegacySpellings(root: Record<string, unknown>, issues: IssueList, positions: PositionMap): void {
  if ("logRequests" in root) {
    issues.warn(["logRequests"], "Remove `logRequests`: it is ignored, as llama-swap ignores it");
    delete root.logRequests;
  }
  for (const section of ["models", "peers"] as const) {
    const entries = root[section];
    if (!isRecord(entries)) continue;
    for (const [id, entry] of Object.entries(entries)) {
      const filters = isRecord(entry) ? entry.filters : undefined;
      if (!isRecord(filters) || !("strip_params" in filters)) continue;
      if ("stripParams" in filters) {
        issues.error([section, id, "filters", "strip_params"], "Remove `strip_params`: `stripParams` is also set", "key");
      } else {
        filters.stripParams = filters.strip_params;
        positions.copy([section, id, "filters", "strip_params"], [section, id, "filters", "stripParams"]);
      }
      delete filters.strip_params;
    }
  }
}

/** Substitutes macros in models (and global macros in peers), then drops the `macros` keys. */
function expandMacros(root: Record<string, unknown>, selfCommand: string, issues: IssueList, positions: PositionMap): void {
  const globals = readMacros(root.macros, ["macros"], issues);
  if (isRecord(root.models)) {
    for (const [id, model] of Object.entries(root.models)) {
      if (!isRecord(model)) continue;
      const locals = readMacros(model.macros, ["models", id, "macros"], issues);
      root.models[id] = expandModelMacros(id, model, globals, locals, selfCommand, positions);
    }
  }
  if (isRecord(root.peers)) {
    const table = macroTable([{ name: "MODELSWAP", value: selfCommand }, ...globals]);
    for (const peer of Object.values(root.peers)) {
      if (!isRecord(peer)) continue;
      if (typeof peer.apiKey === "string") peer.apiKey = substituteDeep(peer.apiKey, table);
      if (isRecord(peer.filters)) peer.filters = substituteDeep(peer.filters, table);
    }
  }
  delete root.macros;
}
