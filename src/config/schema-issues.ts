/**
 * zod issues → positioned, human messages: "Expected an integer >= -1: got
 * "abc"", and "did you mean" for unknown keys.
 */
import type { z } from "zod";
import { describeValue, type IssueList } from "./errors.ts";
import { closest } from "../lib/did-you-mean.ts";
import type { Segment } from "./yaml-positions.ts";

type Def = { type: string; shape?: Record<string, z.ZodType>; valueType?: z.ZodType; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (;;) {
    const d = defOf(cur);
    if (d.innerType && ["optional", "default", "prefault", "nullable", "readonly", "catch"].includes(d.type)) cur = d.innerType;
    else if (d.type === "pipe" && d.in) cur = d.in;
    else return cur;
  }
}

/** The schema that describes the value at `path`, if the path is known. */
export function schemaAt(root: z.ZodType, path: readonly Segment[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    const d = defOf(unwrap(cur));
    if (d.type === "object") cur = d.shape?.[String(seg)];
    else if (d.type === "record") cur = d.valueType;
    else if (d.type === "array") cur = d.element;
    else return undefined;
  }
  return cur ? unwrap(cur) : undefined;
}

/** Keys an object schema at `path` accepts. */
export function knownKeys(root: z.ZodType, path: readonly Segment[]): string[] {
  const s = schemaAt(root, path);
  const d = s ? defOf(s) : undefined;
  return d?.type === "object" && d.shape ? Object.keys(d.shape) : [];
}

/** "Remove or rename the unknown key `tll`: did you mean `ttl`?" for `key` in the mapping at `path`. */
export function unknownKeyMessage(root: z.ZodType, path: readonly Segment[], key: string, note = ""): string {
  const known = knownKeys(root, path);
  const guess = closest(key, known);
  const hint = guess ? `: did you mean \`${guess}\`?` : `: expected one of ${known.map((k) => `\`${k}\``).join(", ")}`;
  return `Remove or rename the unknown key \`${key}\`${note}${hint}`;
}

/**
 * Turns every unknown key in `error` into a warning (llama-swap ignores keys
 * it does not know, so a file written for a newer version still starts) and
 * deletes it from `root`. Returns how many keys were ignored.
 */
export function ignoreUnknownKeys(root: z.ZodType, error: z.ZodError, value: Record<string, unknown>, issues: IssueList): number {
  let count = 0;
  for (const issue of error.issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const path = issue.path as Segment[];
    let parent: unknown = value;
    for (const seg of path) parent = (parent as Record<string | number, unknown> | null)?.[seg];
    for (const key of issue.keys) {
      issues.warn([...path, key], unknownKeyMessage(root, path, key, " (ignored; --strict makes it an error)"));
      if (parent !== null && typeof parent === "object") delete (parent as Record<string, unknown>)[key];
      count++;
    }
  }
  return count;
}

/** Reports every zod issue with its position. */
export function reportZodIssues(root: z.ZodType, error: z.ZodError, issues: IssueList): void {
  for (const issue of error.issues) report(root, issue as z.core.$ZodIssue, issue.path as Segment[], issues);
}

function report(root: z.ZodType, issue: z.core.$ZodIssue, path: Segment[], issues: IssueList): void {
  switch (issue.code) {
    case "unrecognized_keys": {
      for (const key of issue.keys) issues.error([...path, key], unknownKeyMessage(root, path, key), "key");
      return;
    }
    case "invalid_key": {
      const msg = issue.issues[0]?.message ?? issue.message;
      issues.error(path, `Rename the key ${JSON.stringify(issue.input)}: ${lower(msg)}`, "key");
      return;
    }
    case "invalid_element": {
      const msg = issue.issues[0]?.message ?? issue.message;
      issues.error([...path, issue.key as Segment], msg);
      return;
    }
    case "invalid_type": {
      if (issue.input === undefined) {
        const key = path[path.length - 1];
        issues.error(path, `Add the required key \`${String(key)}\`: ${lower(issue.message)}`);
      } else {
        issues.error(path, `${issue.message}: got ${describeValue(issue.input)}`);
      }
      return;
    }
    case "too_big":
    case "too_small":
    case "invalid_format":
    case "not_multiple_of":
    case "invalid_union":
    case "invalid_value":
    case "custom": {
      const input = (issue as { input?: unknown }).input;
      issues.error(path, input === undefined ? issue.message : `${issue.message}: got ${describeValue(input)}`);
      return;
    }
    default: {
      const unreachable: never = issue;
      throw new TypeError(`Cannot report zod issue: unknown code in ${JSON.stringify(unreachable)}`);
    }
  }
}

const lower = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
