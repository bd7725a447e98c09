/**
 * `--config-dir`: every *.yml/*.yaml in a folder, merged additively with
 * `--config` by llama-swap's rules; errors name the file and line they are in.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfigSources, type Config } from "../../../src/config/index.ts";
import { tempDir } from "../../helpers/configs.ts";
import { SELF } from "./helpers.ts";

const tmp = tempDir("modelswap-config-dir-");
afterAll(tmp.remove);
let n = 0;
/** A fresh folder with `files` in it; returns its path. */
function folder(files: Record<string, string>): string {
  const dir = join(tmp.path, `d${n++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
const load = (file: string | null, dir: string | null): Config => loadConfigSources({ file, dir }, { selfCommand: SELF, env: {} });
function messages(file: string | null, dir: string | null): string[] {
  try {
    load(file, dir);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n");
    throw e;
  }
  throw new Error("Expected the config to be rejected: it loaded");
}
const model = (id: string, extra = "") => `models:\n  ${id}:\n    cmd: s --port \${PORT}\n${extra}`;

describe("--config-dir", () => {
  test("models of --config and of every YAML file in the folder add up; other files are not read", () => {
    const main = tmp.write("main.yaml", `apiKeys: [k1]\n${model("a")}`);
    const dir = folder({ "b.yaml": `apiKeys: [k2]\n${model("b")}`, "c.yml": model("c"), "notes.txt": "not: [yaml" });
    const c = load(main, dir);
    expect(Object.keys(c.models).sort()).toEqual(["a", "b", "c"]);
    expect(c.apiKeys).toEqual(["k1", "k2"]);
  });

  test("the folder alone is enough", () => {
    expect(Object.keys(load(null, folder({ "x.yaml": model("x") })).models)).toEqual(["x"]);
  });

  test("files merge in name order: lists concatenate, equal values agree, nested mappings merge", () => {
    const dir = folder({
      "10-a.yaml": `logLevel: debug\nhooks:\n  on_startup:\n    preload: [a]\n${model("a")}`,
      "20-b.yaml": `logLevel: debug\nhooks:\n  on_startup:\n    preload: [b]\n${model("b")}`,
    });
    const c = load(null, dir);
    expect(c.preload).toEqual(["a", "b"]);
    expect(c.logLevel).toBe("debug");
  });

  test("a model defined in two files is an error naming both places", () => {
    const main = tmp.write("dup-main.yaml", model("same"));
    const dir = folder({ "other.yaml": `\n${model("same")}` });
    expect(messages(main, dir)).toEqual([`${join(dir, "other.yaml")}:3:3: models.same: Rename or remove \`same\`: it is already defined in ${main}:2`]);
  });

  test("a scalar set differently in two files is an error at the second", () => {
    const dir = folder({ "a.yaml": `logLevel: debug\n${model("a")}`, "b.yaml": "logLevel: warn\n" });
    expect(messages(null, dir)).toEqual([
      `${join(dir, "b.yaml")}:1:11: logLevel: Set \`logLevel\` in one file only: this file sets a different value than ${join(dir, "a.yaml")}:1`,
    ]);
  });

  test("later errors name the file and line of the value they are about", () => {
    const main = tmp.write("pos-main.yaml", model("a"));
    const dir = folder({ "m.yaml": `# comment\n${model("b", "    ttl: soon\n    proxy: ftp://x\n")}` });
    expect(messages(main, dir)).toEqual([
      `${join(dir, "m.yaml")}:5:10: models.b.ttl: Expected an integer >= -1: got "soon"`,
      `${join(dir, "m.yaml")}:6:12: models.b.proxy: Expected an http:// or https:// URL: got "ftp://x"`,
    ]);
  });

  test("warnings name their file too", () => {
    const dir = folder({ "a.yaml": model("a"), "b.yaml": "logLevl: debug\n" });
    expect(load(null, dir).warnings).toEqual([
      `${join(dir, "b.yaml")}:1:1: logLevl: Remove or rename the unknown key \`logLevl\` (ignored; --strict makes it an error): did you mean \`logLevel\`?`,
    ]);
  });

  test("a YAML syntax error names its own file", () => {
    const dir = folder({ "a.yaml": model("a"), "b.yaml": "models: [\n" });
    expect(messages(null, dir)[0]).toStartWith(`${join(dir, "b.yaml")}:`);
  });

  test("the --config file inside the folder is refused (it would be read twice)", () => {
    const dir = folder({ "a.yaml": model("a") });
    expect(messages(join(dir, "a.yaml"), dir)).toEqual([
      `${join(dir, "a.yaml")}: Remove this file from --config or move it out of --config-dir ${dir}: it is given twice`,
    ]);
  });

  test("a missing folder and an empty folder are errors about the folder", () => {
    expect(messages(null, join(tmp.path, "nope"))).toEqual([`${join(tmp.path, "nope")}: Cannot read the config folder: no such file or folder`]);
    const empty = folder({});
    expect(messages(null, empty)).toEqual([`${empty}: Add a *.yaml or *.yml file to the folder, or pass --config FILE: --config-dir has none`]);
  });
});
