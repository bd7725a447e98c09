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
import { ConfigError, formatPath, IssueList, type ConfigIssue } from "./errors.ts";
import { warnIgnoredKeys } from "./compat-keys.ts";
import { warnMissingExecutables } from "./executables.ts";
import { listYamlFiles, mergeSource, samePath } from "./merge-sources.ts";
import { macroTable, readMacros, substituteDeep, substituteEnv } from "./macros.ts";
import { expandModelMacros, isRecord } from "./models.ts";
import { resolveConfig } from "./resolve.ts";
import { ignoreUnknownKeys, reportZodIssues, schemaAt } from "./schema-issues.ts";
import { configSchema } from "./schema.ts";
import type { Config } from "./types.ts";
import { parseYamlWithPositions, PositionMap, type Segment } from "./yaml-positions.ts";

export interface LoadOptions {
  /** argv that runs this program; substituted for ${MODELSWAP} (joined with spaces, each part shell-quoted if needed). */
  selfCommand: string[];
  /** Environment for ${env.VAR}; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Unknown keys are errors (`--strict`); by default they are warnings, as llama-swap ignores them. */
  strict?: boolean;
  /** Warn about models whose program is not found (`validate` does; the server's PATH may differ). */
  checkExecutables?: boolean;
}

/** Where the configuration comes from: `--config FILE`, `--config-dir DIR`, or both (merged). */
export interface ConfigSources {
  file: string | null;
  dir: string | null;
}

/** One file's text, named for errors. */
export interface SourceText {
  file: string;
  text: string;
}

/**
 * Reads and resolves a config file.
 *
 * @example const config = loadConfigFile("config.yaml", { selfCommand: [process.execPath] });
 * @throws {ConfigError} listing every problem, each with file:line:column and key path
 */
export function loadConfigFile(path: string, options: LoadOptions): Config {
  return loadConfigSources({ file: path, dir: null }, options);
}

/**
 * Reads `--config` and every `*.yml`/`*.yaml` of `--config-dir` (sorted by
 * name), merges them additively as llama-swap does, and resolves the result.
 *
 * @example const config = loadConfigSources({ file: "config.yaml", dir: "conf.d" }, { selfCommand: [process.execPath] });
 * @throws {ConfigError} listing every problem, each naming the file it is in
 */
export function loadConfigSources(sources: ConfigSources, options: LoadOptions): Config {
  const files = sourceFiles(sources);
  const texts: SourceText[] = [];
  const unreadable: ConfigIssue[] = [];
  for (const file of files) {
    try {
      texts.push({ file, text: readFileSync(file, "utf8") });
    } catch (e) {
      unreadable.push(wholeFile(file, `Cannot read the config file: ${reasonOf(e)}`));
    }
  }
  if (unreadable.length > 0) throw new ConfigError(unreadable);
  return { ...parseConfigTexts(texts, options), file: resolvePath(sources.file ?? sources.dir ?? ".") };
}

function sourceFiles(sources: ConfigSources): string[] {
  const files = sources.file === null ? [] : [sources.file];
  const dir = sources.dir;
  if (dir === null) return files;
  let listed: string[];
  try {
    listed = listYamlFiles(dir);
  } catch (e) {
    throw new ConfigError([wholeFile(dir, `Cannot read the config folder: ${reasonOf(e)}`)]);
  }
  const file = sources.file;
  if (file !== null && listed.some((f) => samePath(f, file))) {
    throw new ConfigError([wholeFile(file, `Remove this file from --config or move it out of --config-dir ${dir}: it is given twice`)]);
  }
  if (files.length + listed.length === 0) {
    throw new ConfigError([wholeFile(dir, "Add a *.yaml or *.yml file to the folder, or pass --config FILE: --config-dir has none")]);
  }
  return [...files, ...listed];
}

/** An issue about a file as a whole (line 0 prints without a position). */
function wholeFile(file: string, message: string): ConfigIssue {
  return { file, line: 0, column: 0, path: "", message };
}

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES") return "permission denied";
  if (code === "ENOTDIR") return "not a folder";
  if (code === "EISDIR") return "it is a folder (use --config-dir for a folder of files)";
  return (e as Error).message;
}

/**
 * Parses and resolves config text; `file` names it in errors and in `Config.file`.
 *
 * @throws {ConfigError} listing every problem found
 */
export function parseConfigText(text: string, file: string, options: LoadOptions): Config {
  return parseConfigTexts([{ file, text }], options);
}

/**
 * Parses, merges (in the order given) and resolves several files' text; the
 * first names `Config.file`.
 *
 * @throws {ConfigError} listing every problem found
 */
export function parseConfigTexts(texts: readonly SourceText[], options: LoadOptions): Config {
  const env = options.env ?? process.env;
  const file = texts[0]?.file ?? "<none>";
  const positions = new PositionMap();
  const issues = new IssueList(file, positions);
  const envIssues: ConfigIssue[] = [];
  let root: Record<string, unknown> | null = null;
  for (const source of texts) {
    const missingEnv: Array<{ path: Segment[]; name: string }> = [];
    const parsed = parseYamlWithPositions(source.text, (s, path, plain) => {
      if (!s.includes("${env.")) return s;
      const names: string[] = [];
      const out = substituteEnv(s, env, names);
      for (const name of names) missingEnv.push({ path: [...path], name });
      return plain && out !== s ? retype(out) : out;
    });
    const own = new IssueList(source.file, parsed.positions);
    for (const e of parsed.errors) own.errorAt(e.pos, e.message);
    for (const { path, name } of missingEnv) own.error(path, `Set the environment variable \`${name}\`: it is not set`);
    const value = parsed.value ?? {};
    if (parsed.errors.length === 0 && !isRecord(value)) own.error([], "Expected a mapping of settings at the top of the file");
    if (parsed.errors.length > 0 || !isRecord(value)) {
      issues.issues.push(...own.issues);
      continue;
    }
    envIssues.push(...own.issues);
    if (root === null) {
      root = value;
      positions.graft(parsed.positions, [], [], source.file);
    } else {
      mergeSource(root, positions, { file: source.file, value, positions: parsed.positions }, issues);
    }
  }
  issues.throwIfAny();
  issues.issues.push(...envIssues);
  root ??= {};

  applyLegacySpellings(root, issues, positions);
  expandMacros(root, joinCommand(options.selfCommand), issues, positions);
  warnIgnoredKeys(root, issues);

  let result = configSchema.safeParse(root, { reportInput: true });
  if (!result.success && options.strict !== true && ignoreUnknownKeys(configSchema, result.error, root, issues) > 0) {
    result = configSchema.safeParse(root, { reportInput: true });
  }
  if (!result.success) {
    reportZodIssues(configSchema, result.error, issues);
    reportBeyondSchemaErrors(root, result.error, file, issues, positions);
    throw new ConfigError(issues.issues, issues.warnings);
  }
  const config = resolveConfig(result.data, file, issues);
  issues.throwIfAny();
  if (options.checkExecutables === true) warnMissingExecutables(config, env, issues);
  return config;
}

/** Rounds of "remove what the schema refused, parse again" before giving up on later-stage errors. */
const BEYOND_SCHEMA_ROUNDS = 4;

/**
 * After schema errors, removes the offending values (a missing required key
 * gets a stand-in, or its entry goes) and resolves the rest, so one run
 * reports later-stage problems too, including the other problems of a model
 * that has a schema error. Issues overlapping a removed value are dropped as
 * likely consequences of the removal.
 */
function reportBeyondSchemaErrors(root: Record<string, unknown>, error: z.ZodError, file: string, issues: IssueList, positions: PositionMap): void {
  const removed: string[] = [];
  let current = error;
  for (let round = 0; round < BEYOND_SCHEMA_ROUNDS; round++) {
    for (const issue of current.issues) {
      const path = issue.path as Segment[];
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) removed.push(removeAt(root, [...path, key]));
      } else if (issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined) {
        removed.push(standIn(root, path));
      } else {
        removed.push(removeAt(root, path));
      }
    }
    const next = configSchema.safeParse(root, { reportInput: true });
    if (next.success) {
      const later = new IssueList(file, positions);
      resolveConfig(next.data, file, later);
      const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
      for (const i of later.issues) if (!removed.some((r) => overlaps(i.path, r) || overlaps(r, i.path))) issues.issues.push(i);
      break;
    }
    current = next.error;
  }
  issues.throwIfAny();
}

/**
 * A missing required key: a model's `cmd` gets a stand-in command (so the
 * model's other keys are still checked), a missing mapping or list an empty
 * one; anything else takes its whole entry away. Returns the path reported.
 */
function standIn(root: Record<string, unknown>, path: readonly Segment[]): string {
  const parent = valueAt(root, path.slice(0, -1));
  const key = path[path.length - 1];
  const schema = schemaAt(configSchema, path);
  const kind = schema ? (schema as unknown as { _zod: { def: { type: string } } })._zod.def.type : "";
  if (isRecord(parent) && key !== undefined) {
    if (path.length === 3 && path[0] === "models" && key === "cmd") parent.cmd = "modelswap-stand-in --port ${PORT}";
    else if (kind === "record") parent[String(key)] = {};
    else if (kind === "array") parent[String(key)] = [];
    else return removeAt(root, path.slice(0, -1));
  }
  return formatPath(path);
}

function valueAt(root: Record<string, unknown>, path: readonly Segment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) cur = (cur as Record<string | number, unknown> | null | undefined)?.[seg];
  return cur;
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
