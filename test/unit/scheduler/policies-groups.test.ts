/** llama-swap's group policy, case by case from its example config. */
import { describe, expect, test } from "bun:test";
import type { GroupConfig } from "../../../src/config/types.ts";
import { evictionFor } from "../../../src/scheduler/policies/index.ts";
import { testConfig } from "../../helpers/config-fixture.ts";

const group = (id: string, members: string[], swap: boolean, exclusive: boolean, persistent = false): GroupConfig => ({
  id, members, swap, exclusive, persistent,
});

const config = testConfig(["llama", "qwen", "docker", "modelA", "forever1", "forever2", "loose1", "loose2"], {
  groups: {
    group1: group("group1", ["llama", "qwen"], true, true),
    group2: group("group2", ["docker", "modelA"], false, false),
    forever: group("forever", ["forever1", "forever2"], false, false, true),
  },
});

describe("evictionFor with groups", () => {
  test.each([
    ["nothing running evicts nothing", "llama", [], []],
    ["a running target is never evicted", "llama", ["llama"], []],
    ["swap: true stops siblings", "qwen", ["llama"], ["llama"]],
    ["exclusive: true stops other groups", "llama", ["docker", "modelA"], ["docker", "modelA"]],
    ["exclusive never stops a persistent group", "llama", ["forever1", "docker"], ["docker"]],
    ["swap: false keeps siblings", "modelA", ["docker"], []],
    ["exclusive: false leaves other groups alone, even exclusive ones (llama-swap's gotcha)", "modelA", ["llama"], []],
    ["persistent group members run together and leave others", "forever2", ["forever1", "llama"], []],
    ["a model in no group behaves like llama-swap's default: one at a time", "loose1", ["loose2", "docker"], ["loose2", "docker"]],
    ["a model in no group stops exclusive groups too", "loose1", ["llama"], ["llama"]],
    ["a grouped exclusive model stops ungrouped ones", "llama", ["loose1"], ["loose1"]],
  ] as Array<[string, string, string[], string[]]>)("%s", (_n, target, running, expected) => {
    expect(evictionFor(target, running, config)).toEqual(expected);
  });

  test("an unknown target cannot fit", () => {
    expect(evictionFor("nope", [], config)).toEqual({ cannotFit: "Cannot place model as it is not configured: nope" });
  });
});
