/**
 * The state directory: where pid records and the owner lock live. It is
 * trusted only when it is private: a directory (never a symlink) owned by
 * this user and writable by nobody else. Otherwise anyone who can write there
 * could plant a record naming any process of this user and have the next
 * modelswap SIGKILL it, or read the argv (API keys) of every model server.
 *
 * modelswap writes only `modelswap.lock` and the `procs/` folder inside it,
 * and never reads or deletes anything else there, so `--state-dir` pointed at
 * a project folder loses nothing.
 */
import { lstatSync, mkdirSync, type Stats } from "node:fs";
import { join } from "node:path";

/** The folder of pid records inside the state directory. */
export const RECORDS_DIR = "procs";
/** The owner lock inside the state directory. */
export const LOCK_FILE = "modelswap.lock";

/** The current user id (-1 where the platform has none: every owner check then passes). */
export function currentUid(): number {
  return typeof process.getuid === "function" ? process.getuid() : -1;
}

/** Why `stats` (of `path`) cannot be trusted as a private directory, or null when it can. */
export function untrustedDir(path: string, stats: Stats): string | null {
  if (stats.isSymbolicLink()) return `Cannot use the state directory as it is a symbolic link: ${path}`;
  if (!stats.isDirectory()) return `Cannot use the state directory as it is not a directory: ${path}`;
  const uid = currentUid();
  if (uid >= 0 && stats.uid !== uid) return `Cannot use the state directory as it belongs to uid ${stats.uid}, not ${uid}: ${path}`;
  if ((stats.mode & 0o022) !== 0) {
    return `Cannot use the state directory as others can write to it (mode ${(stats.mode & 0o777).toString(8)}): ${path}`;
  }
  return null;
}

/**
 * Creates `dir` (0700) and its `procs/` folder when missing, and checks both
 * are private. Throws a `TypeError` naming the problem otherwise.
 *
 * @example
 * ```ts
 * prepareStateDir("/run/user/1000/modelswap"); // then lock it, then sweep it
 * ```
 */
export function prepareStateDir(dir: string): void {
  for (const path of [dir, join(dir, RECORDS_DIR)]) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const problem = untrustedDir(path, lstatSync(path));
    if (problem !== null) throw new TypeError(problem);
  }
}

/**
 * Whether `path` is a regular file (not a symlink) owned by this user: the
 * only files modelswap acts on as records or locks.
 */
export function ownFile(path: string): boolean {
  try {
    const st = lstatSync(path);
    const uid = currentUid();
    return st.isFile() && (uid < 0 || st.uid === uid);
  } catch {
    return false;
  }
}
