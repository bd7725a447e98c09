import { describe, expect, test } from "bun:test";
import { warnMissingExecutables } from "../../../src/config/executables.ts";
import { IssueList } from "../../../src/config/errors.ts";
import { parseYamlWithPositions } from "../../../src/config/yaml-positions.ts";
import { load } from "./helpers.ts";

const YAML = "models:\n  here:\n    cmd: sh -c true\n    proxy: http://127.0.0.1:9\n  gone:\n    cmd: no-such-server-xyz --port ${PORT}\n  local:\n    cmd: ./bin/server --port ${PORT}\n    env: [PATH=/opt/bin]\n";

describe("validate's check that each cmd's program exists", () => {
  test("warns at the cmd of every model whose program is not found, with the model's own PATH", () => {
    const config = load(YAML);
    const issues = new IssueList("test.yaml", parseYamlWithPositions(YAML).positions);
    const asked: Array<[string, string | undefined]> = [];
    warnMissingExecutables(config, { PATH: "/usr/bin:/bin" }, issues, (program, path) => {
      asked.push([program, path]);
      return program === "sh" ? "/bin/sh" : null;
    });
    expect(asked).toEqual([
      ["sh", "/usr/bin:/bin"],
      ["no-such-server-xyz", "/usr/bin:/bin"],
      ["./bin/server", "/opt/bin"],
    ]);
    expect(issues.warnings).toEqual([
      "test.yaml:6:10: models.gone.cmd: Install `no-such-server-xyz` or fix cmd: it is not on PATH",
      "test.yaml:8:10: models.local.cmd: Install `./bin/server` or fix cmd: no executable file is there",
    ]);
  });

  test("uses the real PATH lookup by default", () => {
    const config = load(YAML);
    const issues = new IssueList("test.yaml", parseYamlWithPositions(YAML).positions);
    warnMissingExecutables(config, { PATH: process.env.PATH }, issues);
    expect(issues.warnings.map((w) => w.split(": ")[1])).toEqual(["models.gone.cmd", "models.local.cmd"]);
  });
});
