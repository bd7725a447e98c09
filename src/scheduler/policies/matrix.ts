/**
 * llama-swap's matrix residency policy: named set expressions list the model
 * combinations allowed to run together; the solver keeps the set containing
 * the target whose eviction cost is lowest (ties: definition order).
 */
import type { Config, MatrixConfig } from "../../config/types.ts";

/** One expanded concrete set, with the name of the expression it came from. */
export interface ConcreteSet {
  name: string;
  models: string[];
}

/**
 * Expands `sets` into concrete model sets (`&` AND, `|` OR, `()`, `+ref`),
 * vars resolved to model ids.
 *
 * @example
 * ```ts
 * expandSets({ vars: {}, evictCosts: {}, sets: [{ name: "s", expr: "(a | b) & c" }] });
 * // [{ name: "s", models: ["a","c"] }, { name: "s", models: ["b","c"] }]
 * ```
 */
export function expandSets(matrix: MatrixConfig): ConcreteSet[] {
  const byName = new Map(matrix.sets.map((s) => [s.name, s.expr]));
  const out: ConcreteSet[] = [];
  for (const s of matrix.sets) {
    for (const models of parseExpr(s.expr, matrix, byName, [s.name])) out.push({ name: s.name, models });
  }
  return out;
}

function parseExpr(expr: string, m: MatrixConfig, byName: Map<string, string>, stack: string[]): string[][] {
  const tokens = expr.match(/[()&|]|\+?[A-Za-z0-9._:\/-]+/g) ?? [];
  let i = 0;
  const orExpr = (): string[][] => {
    let acc = andExpr();
    while (tokens[i] === "|") {
      i++;
      acc = [...acc, ...andExpr()];
    }
    return acc;
  };
  const andExpr = (): string[][] => {
    let acc = factor();
    while (tokens[i] === "&") {
      i++;
      const rhs = factor();
      acc = acc.flatMap((a) => rhs.map((b) => [...new Set([...a, ...b])]));
    }
    return acc;
  };
  const factor = (): string[][] => {
    const t = tokens[i++];
    if (t === undefined) throw new SyntaxError(`Cannot parse matrix set expression as it ends early: "${expr}"`);
    if (t === "(") {
      const inner = orExpr();
      if (tokens[i++] !== ")") throw new SyntaxError(`Cannot parse matrix set expression as ")" is missing: "${expr}"`);
      return inner;
    }
    if (t.startsWith("+")) {
      const ref = t.slice(1);
      const refExpr = byName.get(ref);
      if (refExpr === undefined || stack.includes(ref)) {
        throw new SyntaxError(`Cannot inline matrix set "${ref}" as it is unknown or recursive: "${expr}"`);
      }
      return parseExpr(refExpr, m, byName, [...stack, ref]);
    }
    return [[m.vars[t] ?? t]];
  };
  const result = orExpr();
  if (i !== tokens.length) throw new SyntaxError(`Cannot parse matrix set expression at "${tokens[i]}": "${expr}"`);
  return result;
}

/** Expansion per matrix object: the policy runs on every queue drain. */
const expanded = new WeakMap<MatrixConfig, ConcreteSet[]>();

function costOf(model: string, m: MatrixConfig): number {
  for (const [k, v] of Object.entries(m.evictCosts)) {
    if ((m.vars[k] ?? k) === model) return v;
  }
  return 1;
}

/**
 * Models in `running` that must stop before `target` runs under the matrix.
 * A model in no set runs alone.
 */
export function evictionForMatrix(target: string, running: string[], config: Config): string[] {
  if (running.includes(target)) return [];
  if (config.matrix === null) return [...running];
  let sets = expanded.get(config.matrix);
  if (sets === undefined) expanded.set(config.matrix, (sets = expandSets(config.matrix)));
  const candidates = sets.filter((s) => s.models.includes(target));
  let best: { cost: number; evict: string[] } | null = null;
  for (const s of candidates) {
    const evict = running.filter((r) => !s.models.includes(r));
    const cost = evict.reduce((sum, r) => sum + costOf(r, config.matrix!), 0);
    if (best === null || cost < best.cost) best = { cost, evict };
  }
  return best === null ? [...running] : best.evict;
}
