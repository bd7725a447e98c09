/**
 * One owner per state directory (the seed supervisor's lock): `modelswap.lock`
 * is created exclusively (O_EXCL semantics, via link) and names its owner's pid and start time. Without
 * it two modelswaps on one directory shared `${PORT}` numbers (one's health
 * check answered by the other's server) and swept each other's records.
 */
import { closeSync, linkSync, lstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { runningSince, selfIdentity } from "./process-tree.ts";
import { LOCK_FILE, ownFile } from "./state-dir.ts";

/** Who holds (or held) a lock. */
export interface LockOwner {
  pid: number;
  startTime: number;
}

/** The lock is ours (`tookOverFrom`: the dead owner it was taken from), or a live `holder` has it. */
export type LockResult =
  | { ok: true; tookOverFrom: LockOwner | null; release(): void }
  | { ok: false; holder: LockOwner };

/**
 * Takes the lock of `stateDir` (which `prepareStateDir` checked). A lock whose
 * owner is gone (pid missing or reused: another start time) is taken over,
 * only if the file is still the one judged stale (a rival that took it over
 * meanwhile keeps it). Throws a `TypeError` when the lock file is not this
 * user's regular file.
 *
 * @example
 * ```ts
 * const lock = acquireStateLock(dir);
 * if (!lock.ok) fail(`modelswap pid ${lock.holder.pid} already uses ${dir}`);
 * ```
 */
export function acquireStateLock(stateDir: string): LockResult {
  const path = join(stateDir, LOCK_FILE);
  const me = selfIdentity();
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (createExclusive(path, `${JSON.stringify(me)}\n`)) return { ok: true, tookOverFrom, release: () => releaseLock(path, me) };
    let before;
    try {
      before = lstatSync(path);
    } catch {
      continue; // released meanwhile: try again
    }
    if (!ownFile(path)) throw new TypeError(`Cannot use the state directory as its lock is not this user's regular file: ${path}`);
    const holder = readOwner(path);
    if (holder !== null && runningSince(holder.pid, holder.startTime) !== null) return { ok: false, holder };
    // Stale: move it aside and check it is still the file judged stale.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    const moved = lstatSync(aside);
    if (moved.ino !== before.ino || moved.dev !== before.dev) {
      // A rival replaced it between our look and the move: give it back (never over a newer one).
      try {
        linkSync(aside, path);
      } catch {
        // Someone holds a newer lock: theirs stands.
      }
    } else {
      tookOverFrom = holder ?? { pid: 0, startTime: 0 };
    }
    rmSync(aside, { force: true });
  }
  throw new Error(`Cannot take the state directory's lock: it changed hands 10 times: ${path}`);
}

/**
 * Creates `path` with `text` only if it does not exist (O_EXCL semantics): the
 * content is written to a private temporary file first and hard-linked into
 * place, so a rival never sees an empty lock it could judge stale.
 */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The owner named in a lock file, or null when unreadable. */
export function readOwner(path: string): LockOwner | null {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as Partial<LockOwner>;
    return Number.isInteger(v.pid) && Number.isInteger(v.startTime) ? { pid: v.pid!, startTime: v.startTime! } : null;
  } catch {
    return null;
  }
}

/** Removes the lock if it still names `me` (a takeover by someone else is left alone). */
function releaseLock(path: string, me: LockOwner): void {
  const owner = readOwner(path);
  if (owner !== null && owner.pid === me.pid && owner.startTime === me.startTime && ownFile(path)) rmSync(path, { force: true });
}
