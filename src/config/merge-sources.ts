/**
 * `--config-dir`: several YAML files merged into one document, additively,
 * with llama-swap's rules (`internal/config/merge.go`): mappings merge key by
 * key, lists concatenate, equal scalars agree, a null yields to a value, and
 * an entity (a model, group, peer, profile, selector, matrix entry) defined
 * in two files is an error. Every value keeps the file it came from, so a
 * later error still names the right file and line.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { IssueList } from "./errors.ts";
import { isRecord } from "./models.ts";
import type { PositionMap, Segment } from "./yaml-positions.ts";

/** Key paths whose children each name one entity: the same child in two files is a mistake. */
const IDENTITY_MAPS = new Set([
  "models",
  "groups",
  "profiles",
  "selectors",
  "peers",
  "matrix",
  "routing.router.settings.groups",
  "routing.router.settings.matrix",
]);

/** One parsed file: its value and where each of its keys and values is. */
export interface Source {
  file: string;
  value: Record<string, unknown>;
  positions: PositionMap;
}

/**
 * The `*.yml` / `*.yaml` files directly in `dir`, sorted by name (the merge
 * order); subfolders are not read.
 *
 * @throws {Error} when `dir` cannot be listed
 */
export function listYamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** True when `a` and `b` name the same file. */
export function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

/**
 * Merges `src` into `target` (whose positions are `into`), recording
 * conflicts in `issues` at the value of `src` that conflicts.
 */
export function mergeSource(target: Record<string, unknown>, into: PositionMap, src: Source, issues: IssueList): void {
  mergeMaps(target, src.value, [], { into, src, issues });
}

interface Ctx {
  into: PositionMap;
  src: Source;
  issues: IssueList;
}

const dotted = (path: readonly Segment[]): string => path.map(String).join(".");
const isNull = (v: unknown): boolean => v === null || v === undefined || v === "";

function take(target: Record<string, unknown>, key: string, value: unknown, path: Segment[], ctx: Ctx): void {
  target[key] = value;
  ctx.into.graft(ctx.src.positions, path, path, ctx.src.file);
}

function mergeMaps(target: Record<string, unknown>, src: Record<string, unknown>, path: Segment[], ctx: Ctx): void {
  for (const [key, value] of Object.entries(src)) {
    const at = [...path, key];
    if (!(key in target)) {
      take(target, key, value, at, ctx);
      continue;
    }
    const existing = target[key];
    if (IDENTITY_MAPS.has(dotted(at)) && isRecord(existing) && isRecord(value)) {
      for (const [id, entity] of Object.entries(value)) {
        if (id in existing) {
          const first = ctx.into.find([...at, id], "key");
          const here = { ...ctx.src.positions.find([...at, id], "key"), file: ctx.src.file };
          ctx.issues.errorAt(here, `Rename or remove \`${id}\`: it is already defined in ${first.file ?? "another file"}:${first.line}`, [...at, id]);
        } else {
          take(existing, id, entity, [...at, id], ctx);
        }
      }
      continue;
    }
    mergeValue(target, key, value, at, ctx);
  }
}

function mergeValue(target: Record<string, unknown>, key: string, value: unknown, at: Segment[], ctx: Ctx): void {
  const existing = target[key];
  if (isRecord(existing) && isRecord(value)) return mergeMaps(existing, value, at, ctx);
  if (Array.isArray(existing) && Array.isArray(value)) {
    const offset = existing.length;
    value.forEach((item, i) => {
      existing.push(item);
      ctx.into.graft(ctx.src.positions, [...at, i], [...at, offset + i], ctx.src.file);
    });
    return;
  }
  if (isNull(value)) return;
  if (isNull(existing)) return take(target, key, value, at, ctx);
  if (existing === value) return;
  const first = ctx.into.find(at);
  const kinds = isRecord(existing) || isRecord(value) || Array.isArray(existing) || Array.isArray(value);
  const what = kinds ? "a different kind of value" : "a different value";
  const here = { ...ctx.src.positions.find(at), file: ctx.src.file };
  ctx.issues.errorAt(here, `Set \`${dotted(at)}\` in one file only: this file sets ${what} than ${first.file ?? "another file"}:${first.line}`, at);
}
