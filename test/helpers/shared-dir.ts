/**
 * The project's `shared/` folder (llama-swap's example config and schema),
 * which lives beside the repository: `/work/shared` next to `/work/main` on a
 * developer's machine, `shared/` next to the fresh clone in CI. A git
 * worktree (`/work/wt/NAME`) finds it beside the main checkout its `.git`
 * file points to.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root: two folders above this file. */
export const REPO_ROOT = resolve(import.meta.dir, "..", "..");

/** Folders where `shared/` may be, most likely first. */
export function sharedCandidates(repo: string = REPO_ROOT): string[] {
  const out = [join(repo, "..", "shared")];
  const dotGit = join(repo, ".git");
  if (existsSync(dotGit) && statSync(dotGit).isFile()) {
    // A worktree: "gitdir: /work/main/.git/worktrees/NAME" → the main checkout is /work/main.
    const gitdir = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim();
    const at = gitdir?.lastIndexOf("/.git/") ?? -1;
    if (gitdir !== undefined && at > 0) out.push(join(gitdir.slice(0, at), "..", "shared"));
  }
  return out.map((p) => resolve(p));
}

/**
 * The path of `rel` inside `shared/`, or a thrown error naming every place
 * looked at (a test must fail loudly, not skip, when the fixture is missing).
 */
export function sharedFile(rel: string, repo: string = REPO_ROOT): string {
  const candidates = sharedCandidates(repo);
  for (const dir of candidates) {
    const path = join(dir, rel);
    if (existsSync(path)) return path;
  }
  throw new Error(`Cannot find shared/${rel}: looked in ${candidates.join(", ")} (shared/ belongs beside the repository root)`);
}
