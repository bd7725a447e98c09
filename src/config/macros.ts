/**
 * Macro substitution exactly as llama-swap does it: `${env.VAR}` first, then
 * global and model macros in definition order, with reserved names filled by
 * the loader (`MODEL_ID`, `PORT`, `MODELSWAP`) or the supervisor (`PID`).
 */
import { describeValue, type IssueList } from "./errors.ts";
import type { Segment } from "./yaml-positions.ts";

export type MacroValue = string | number | boolean;
export interface Macro {
  name: string;
  value: MacroValue;
}

/** Names the loader or supervisor fills in; a config may not define them. */
export const RESERVED_MACROS = ["PORT", "MODEL_ID", "PID", "MODELSWAP", "SLOT"] as const;
const NAME = /^[a-zA-Z0-9_-]+$/;
const ENV_REF = /\$\{env\.([a-zA-Z_][a-zA-Z0-9_]*)\}/g;
const ONE_REF = /^\$\{([a-zA-Z0-9_-]+)\}$/;
const ANY_REF = /\$\{([a-zA-Z0-9_-]+)\}/g;
/** Anything that still looks like a macro after substitution. */
export const LEFTOVER_REF = /\$\{([^}\s]*)\}/g;

/** Replaces `${env.VAR}` in one string; names of unset variables go to `missing`. */
export function substituteEnv(text: string, env: Record<string, string | undefined>, missing: string[]): string {
  return text.replace(ENV_REF, (whole, name: string) => {
    const v = env[name];
    if (v === undefined) {
      missing.push(name);
      return whole;
    }
    return v;
  });
}

/**
 * Reads a `macros` mapping in definition order, reporting bad names, reserved
 * names and values that are not a string, number or boolean.
 */
export function readMacros(raw: unknown, path: readonly Segment[], issues: IssueList): Macro[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== "object" || Array.isArray(raw)) {
    issues.error(path, `Expected a mapping of macro names to values: got ${describeValue(raw)}`);
    return [];
  }
  const out: Macro[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const at = [...path, name];
    if (!NAME.test(name) || name.length >= 64) {
      issues.error(at, `Rename the macro: names must match ^[a-zA-Z0-9_-]+$ and be shorter than 64 characters`, "key");
      continue;
    }
    if ((RESERVED_MACROS as readonly string[]).includes(name)) {
      issues.error(at, `Rename the macro: \`${name}\` is reserved (${RESERVED_MACROS.join(", ")})`, "key");
      continue;
    }
    if (typeof value === "string" && value.length > 1024) {
      issues.error(at, `Shorten the macro value: at most 1024 characters, got ${value.length}`);
      continue;
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      issues.error(at, `Expected a string, number or boolean: got ${describeValue(value)}`);
      continue;
    }
    out.push({ name, value });
  }
  return out;
}

/** Model macros override global ones in place; new ones are appended (llama-swap's order). */
export function mergeMacros(base: readonly Macro[], overrides: readonly Macro[]): Macro[] {
  const out = [...base];
  for (const m of overrides) {
    const i = out.findIndex((e) => e.name === m.name);
    if (i >= 0) out[i] = m;
    else out.push(m);
  }
  return out;
}

/** Expands each macro's value with the macros defined before it; returns the lookup table. */
export function macroTable(ordered: readonly Macro[]): Map<string, MacroValue> {
  const table = new Map<string, MacroValue>();
  for (const m of ordered) table.set(m.name, substituteString(m.value, table) as MacroValue);
  return table;
}

function substituteString(text: string | number | boolean, table: ReadonlyMap<string, MacroValue>): unknown {
  if (typeof text !== "string") return text;
  const one = ONE_REF.exec(text);
  if (one) {
    const v = table.get(one[1] as string);
    if (v !== undefined) return v;
  }
  return text.replace(ANY_REF, (whole, name: string) => {
    const v = table.get(name);
    return v === undefined ? whole : String(v);
  });
}

/**
 * Substitutes macros in every string of a value, deeply. A string that is
 * exactly one macro takes the macro's type (`"${temp}"` → 0.7). Mapping keys
 * are left alone (the loader renames `setParamsByID` keys itself).
 */
export function substituteDeep(value: unknown, table: ReadonlyMap<string, MacroValue>): unknown {
  if (typeof value === "string") return substituteString(value, table);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, table));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteDeep(v, table);
    return out;
  }
  return value;
}

/** The error for a `${name}` no macro defines. */
export const undefinedMacroMessage = (name: string): string => `Define the macro or remove the reference: \`\${${name}}\` is not a defined macro`;

/** Calls `found` for each `${name}` still present in a string under `value` (mapping keys are not searched). */
export function forEachLeftover(value: unknown, path: Segment[], found: (path: Segment[], name: string) => void): void {
  if (typeof value === "string") {
    for (const m of value.matchAll(LEFTOVER_REF)) found(path, m[1] as string);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => forEachLeftover(v, [...path, i], found));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) forEachLeftover(v, [...path, k], found);
  }
}
