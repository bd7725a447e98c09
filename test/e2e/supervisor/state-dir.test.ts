/**
 * The state directory is trusted only when private (src/supervisor/state-dir.ts):
 * created 0700, records 0600; a symlink, another user's directory or one
 * others can write to is refused with a clear error.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { prepareStateDir } from "../../../src/supervisor/state-dir.ts";
import { recordPath, writePidRecord } from "../../../src/supervisor/pid-record.ts";
import { removeTempDirs, tempStateDir } from "./helpers.ts";

afterAll(removeTempDirs);

describe("prepareStateDir", () => {
  test("creates the directory and its procs/ folder 0700; records are written 0600", () => {
    const dir = join(tempStateDir(), "a", "state");
    prepareStateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "procs")).mode & 0o777).toBe(0o700);
    writePidRecord(dir, { pid: 4242, pgid: 4242, startTime: 1, model: "m", argv: ["x", "--api-key", "secret"], token: "t" });
    expect(statSync(recordPath(dir, 4242)).mode & 0o777).toBe(0o600);
  });

  test("refuses a symbolic link, even to a private directory of this user", () => {
    const base = tempStateDir();
    mkdirSync(join(base, "real"), { mode: 0o700 });
    symlinkSync(join(base, "real"), join(base, "link"));
    expect(() => prepareStateDir(join(base, "link"))).toThrow(`Cannot use the state directory as it is a symbolic link: ${join(base, "link")}`);
  });

  test("refuses a directory others can write to", () => {
    const dir = join(tempStateDir(), "open");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(() => prepareStateDir(dir)).toThrow("Cannot use the state directory as others can write to it (mode 777)");
  });

  test("refuses a directory another user created (the /tmp/modelswap-UID fallback pre-created by someone else)", () => {
    if (process.getuid?.() !== 0) return; // only root can give a directory away
    const dir = join(tempStateDir(), "theirs");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    expect(() => prepareStateDir(dir)).toThrow(`Cannot use the state directory as it belongs to uid 65534, not 0: ${dir}`);
  });
});
