/**
 * Config problems as data: every issue knows its file, line, column and key
 * path, so `loadConfigFile` can report all of them at once.
 */
import type { Pos, PositionMap, Segment } from "./yaml-positions.ts";

/** One problem in a config file, pointing at the offending value. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Key path like `models.foo.ttl`; "" for the whole file. */
  path: string;
  message: string;
}

/** Formats an issue the way compilers do, so editors can jump to it; line 0 means "the file as a whole" (it cannot be read). */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === 0 ? issue.file : `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === "" ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

const fileOrder = (a: string, b: string): number => (a === b ? 0 : a < b ? -1 : 1);
const byPosition = (a: ConfigIssue, b: ConfigIssue): number => fileOrder(a.file, b.file) || a.line - b.line || a.column - b.column;

/** Thrown by the loader with every problem found, never only the first. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  /** Formatted warnings found before the errors stopped the load (printed after them). */
  readonly warnings: string[];
  constructor(issues: ConfigIssue[], warnings: readonly string[] = []) {
    super([...issues.map(formatIssue), ...warnings.map((w) => `warning: ${w}`)].join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
    this.warnings = [...warnings];
  }
}

/** Renders a key path for humans: `models.foo.env[0]`. */
export function formatPath(path: readonly Segment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}

/** Describes a found value briefly for "expected X: got Y" messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/**
 * Collects issues and warnings while loading; positions come from the YAML
 * so each one points at the value (or key) it is about.
 */
export class IssueList {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: string[] = [];
  constructor(
    readonly file: string,
    readonly positions: PositionMap,
  ) {}

  /** Records an error about the value at `path` (or its key with `at: "key"`). */
  error(path: readonly Segment[], message: string, at: "key" | "value" = "value"): void {
    this.issues.push(this.#issue(path, message, at));
  }

  /** Records an error at an explicit position (YAML syntax errors, a value of another file). */
  errorAt(pos: Pos, message: string, path: readonly Segment[] = []): void {
    this.issues.push({ file: pos.file ?? this.file, line: pos.line, column: pos.column, path: formatPath(path), message });
  }

  /** Records a non-fatal note, formatted like an issue; notes stay sorted by position. */
  warn(path: readonly Segment[], message: string, at: "key" | "value" = "key"): void {
    const issue = this.#issue(path, message, at);
    let i = this.#warned.length;
    while (i > 0 && byPosition(this.#warned[i - 1]!, issue) > 0) i--;
    this.#warned.splice(i, 0, issue);
    this.warnings.splice(i, 0, formatIssue(issue));
  }

  readonly #warned: ConfigIssue[] = [];

  /** Throws a ConfigError with all issues sorted by position, if any. */
  throwIfAny(): void {
    if (this.issues.length === 0) return;
    throw new ConfigError([...this.issues].sort(byPosition), this.warnings);
  }

  #issue(path: readonly Segment[], message: string, at: "key" | "value"): ConfigIssue {
    const pos = this.positions.find(path, at);
    return { file: pos.file ?? this.file, line: pos.line, column: pos.column, path: formatPath(path), message };
  }
}
