/**
 * Cross-references between sections: every id a group, matrix, preload,
 * priority, selector or profile names must exist, and names must not clash.
 */
import type { IssueList } from "./errors.ts";
import { parseMatrixExpr } from "./matrix-dsl.ts";
import type { Config } from "./types.ts";
import type { Segment } from "./yaml-positions.ts";

/** Where each routing section was written, so errors point at the user's spelling. */
export interface RoutingPaths {
  groups: Segment[];
  matrix: Segment[];
}

/** Model ids, aliases, and peer model names as one resolver. */
export class Names {
  readonly aliases = new Map<string, string>();
  readonly peerModels = new Map<string, string[]>();
  constructor(readonly config: Config) {
    for (const m of Object.values(config.models)) for (const a of m.aliases) if (!this.aliases.has(a)) this.aliases.set(a, m.id);
    for (const p of Object.values(config.peers)) {
      for (const model of p.models) {
        this.peerModels.set(`${p.id}/${model}`, [p.id]);
        this.peerModels.set(model, [...(this.peerModels.get(model) ?? []), p.id]);
      }
    }
  }
  /** The local model id a name stands for (id or alias). */
  local(name: string): string | undefined {
    return name in this.config.models ? name : this.aliases.get(name);
  }
  /** True for local models, aliases, and peer models (qualified, or unqualified from exactly one peer). */
  known(name: string): boolean {
    return this.local(name) !== undefined || this.peerModels.get(name)?.length === 1;
  }
}

/** Reports every dangling reference and name clash in a resolved config. */
export function checkReferences(config: Config, paths: RoutingPaths, issues: IssueList): void {
  const names = new Names(config);
  checkAliases(config, issues);
  checkGroups(config, paths.groups, issues);
  if (config.matrix) checkMatrix(config, paths.matrix, issues);
  // llama-swap drops unknown preload ids silently; we drop them with a warning.
  config.preload = config.preload.filter((id, i) => {
    if (names.local(id) !== undefined) return true;
    issues.warn(["hooks", "on_startup", "preload", i], `Remove \`${id}\` from preload: it is not a model id or alias, so it is ignored`, "value");
    return false;
  });
  for (const id of Object.keys(config.priority)) {
    if (names.local(id) === undefined) {
      issues.error(["routing", "scheduler", "settings", "fifo", "priority", id], `Define the model or remove its priority: \`${id}\` is not a model id or alias`, "key");
    }
  }
  checkSelectors(config, names, issues);
  checkProfiles(config, names, issues);
}

function checkAliases(config: Config, issues: IssueList): void {
  const owner = new Map<string, string>();
  for (const m of Object.values(config.models)) {
    m.aliases.forEach((alias, i) => {
      // Aliases that came from setParamsByID keys are reported at that key.
      const explicit = !(alias in m.filters.setParamsByID);
      const at: Segment[] = explicit ? ["models", m.id, "aliases", i] : ["models", m.id, "filters", "setParamsByID", alias];
      const where = explicit ? "value" : "key";
      if (alias in config.models && alias !== m.id) issues.error(at, `Rename the alias: \`${alias}\` is already a model id`, where);
      else if (owner.has(alias)) issues.error(at, `Rename the alias: \`${alias}\` is already an alias of model \`${owner.get(alias)}\``, where);
      else owner.set(alias, m.id);
    });
  }
}

function checkGroups(config: Config, base: Segment[], issues: IssueList): void {
  const memberOf = new Map<string, string>();
  for (const group of Object.values(config.groups)) {
    const seen = new Set<string>();
    group.members.forEach((member, i) => {
      const at = [...base, group.id, "members", i];
      if (!(member in config.models)) issues.warn(at, `Remove \`${member}\` from the group or define it: it is not a model id, so it is ignored`, "value");
      else if (seen.has(member)) issues.error(at, `Remove the duplicate: \`${member}\` is listed twice in group \`${group.id}\``);
      else if (memberOf.has(member)) issues.error(at, `Keep the model in one group: \`${member}\` is also a member of group \`${memberOf.get(member)}\``);
      seen.add(member);
      if (!memberOf.has(member)) memberOf.set(member, group.id);
    });
    // llama-swap accepts members it has no model for; they can never run, so they are dropped.
    group.members = group.members.filter((member) => member in config.models);
  }
}

function checkMatrix(config: Config, base: Segment[], issues: IssueList): void {
  const matrix = config.matrix;
  if (!matrix) return;
  for (const [v, model] of Object.entries(matrix.vars)) {
    if (!(model in config.models)) issues.error([...base, "vars", v], `Point the var at a model id: \`${model}\` is not a model id (aliases are not accepted)`);
  }
  const isModel = (name: string) => name in matrix.vars || name in config.models;
  for (const key of Object.keys(matrix.evictCosts)) {
    if (!isModel(key)) issues.error([...base, "evict_costs", key], `Use a var or model id: \`${key}\` is neither`, "key");
  }
  const setNames = new Set(matrix.sets.map((s) => s.name));
  for (const { name, expr } of matrix.sets) {
    const at = [...base, "sets", name];
    try {
      const { ids, refs } = parseMatrixExpr(expr);
      for (const id of ids) if (!isModel(id)) issues.error(at, `Use a var or model id in the set: \`${id}\` is neither`);
      for (const ref of refs) {
        if (!setNames.has(ref) && ref !== "undefined") issues.error(at, `Define the set or fix the reference: \`+${ref}\` names no set`);
      }
    } catch (e) {
      issues.error(at, (e as Error).message);
    }
  }
}

function checkSelectors(config: Config, names: Names, issues: IssueList): void {
  for (const sel of Object.values(config.selectors)) {
    const at: Segment[] = ["selectors", sel.id];
    if (sel.id in config.models) issues.error(at, `Rename the selector: \`${sel.id}\` is already a model id`, "key");
    else if (names.aliases.has(sel.id)) issues.error(at, `Rename the selector: \`${sel.id}\` is already an alias of model \`${names.aliases.get(sel.id)}\``, "key");
    else if (names.peerModels.has(sel.id)) issues.error(at, `Rename the selector: \`${sel.id}\` is already a peer model`, "key");
    sel.targets.forEach((target, i) => {
      const tat = [...at, "targets", i];
      if (target in config.selectors) issues.error(tat, `Target a model instead: \`${target}\` is a selector and selectors cannot be chained`);
      else if (!names.known(target)) issues.error(tat, `Define the model or fix the target: \`${target}\` is not a model, alias or peer model`);
      else if (sel.strategy === "warm" && names.local(target) === undefined) {
        issues.error(tat, `Target a local model: strategy \`${sel.strategy}\` needs local models, \`${target}\` is a peer model`);
      }
    });
  }
}

function checkProfiles(config: Config, names: Names, issues: IssueList): void {
  for (const profile of Object.values(config.profiles)) {
    if (Object.keys(profile.pins).length === 0) issues.error(["profiles", profile.id, "pins"], "Add at least one pin: pins is empty");
    for (const [pin, target] of Object.entries(profile.pins)) {
      if (target === null || target in config.selectors || names.known(target)) continue;
      issues.error(["profiles", profile.id, "pins", pin], `Define the model or fix the pin: \`${target}\` is not a model, alias, peer model or selector`);
    }
  }
}
