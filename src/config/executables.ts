/**
 * `validate`'s check that each model's command can be found: a `cmd` whose
 * program is not on PATH loads fine and fails only when the first request
 * arrives, so validate says so up front (a warning: the server modelswap
 * runs on may have a different PATH).
 */
import type { IssueList } from "./errors.ts";
import type { Config } from "./types.ts";

/** Finds `program` like a shell would (`Bun.which`); injectable for tests. */
export type Which = (program: string, path: string | undefined) => string | null;

const bunWhich: Which = (program, path) => Bun.which(program, path === undefined ? {} : { PATH: path });

/** Warns at `models.<id>.cmd` for every model whose program is not found. */
export function warnMissingExecutables(config: Config, env: Record<string, string | undefined>, issues: IssueList, which: Which = bunWhich): void {
  for (const model of Object.values(config.models)) {
    const program = model.cmd[0];
    if (program === undefined) continue;
    const path = model.env.PATH ?? env.PATH;
    if (which(program, path) !== null) continue;
    const where = program.includes("/") ? "no executable file is there" : path === undefined ? "PATH is not set" : "it is not on PATH";
    issues.warn(["models", model.id, "cmd"], `Install \`${program}\` or fix cmd: ${where}`, "value");
  }
}
