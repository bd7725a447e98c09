/**
 * Tests in their place: `test/unit` runs in one process, so a unit test that
 * spawns a child process or a Worker belongs under `test/e2e` (it is slower,
 * and it can leave something behind).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const UNIT = import.meta.dir;
const SPAWNS = /\bBun\.spawn(Sync)?\(|\bspawnSync\(|from "node:child_process"|\bnew Worker\(|\bcreateScheduler\(/;

test("no file under test/unit spawns a process or a Worker", () => {
  const offenders: string[] = [];
  for (const file of new Bun.Glob("**/*.ts").scanSync(UNIT)) {
    if (file === "layout.test.ts") continue;
    if (SPAWNS.test(readFileSync(join(UNIT, file), "utf8"))) offenders.push(file);
  }
  expect(offenders).toEqual([]);
});
