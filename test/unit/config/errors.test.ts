import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../../helpers/configs.ts";
import { ConfigError, formatIssue, loadConfigFile } from "../../../src/config/index.ts";
import { SELF, issuesOf, onlyIssue } from "./helpers.ts";

const OK_MODEL = "models:\n  m:\n    cmd: s --port ${PORT}\n";

describe("each kind of bad input names file, line, column and key path", () => {
  test.each([
    {
      kind: "unknown top-level key, with did-you-mean (--strict)",
      strict: true,
      yaml: `starPort: 9000\n${OK_MODEL}`,
      want: { line: 1, column: 1, path: "starPort", message: "Remove or rename the unknown key `starPort`: did you mean `startPort`?" },
    },
    {
      kind: "unknown model key, with did-you-mean (--strict)",
      strict: true,
      yaml: "models:\n  m:\n    cmd: s --port ${PORT}\n    tll: 5\n",
      want: { line: 4, column: 5, path: "models.m.tll", message: "Remove or rename the unknown key `tll`: did you mean `ttl`?" },
    },
    {
      kind: "unknown nested key (--strict)",
      strict: true,
      yaml: "models:\n  m:\n    cmd: s --port ${PORT}\n    filters:\n      setParam: {}\n",
      want: { line: 5, column: 7, path: "models.m.filters.setParam", message: "Remove or rename the unknown key `setParam`: did you mean `setParams`?" },
    },
    {
      kind: "unknown key with no close match lists the known ones (--strict)",
      strict: true,
      yaml: "models:\n  m:\n    cmd: s --port ${PORT}\n    compat:\n      zzzzzz: true\n",
      want: { line: 5, column: 7, path: "models.m.compat.zzzzzz", message: "Remove or rename the unknown key `zzzzzz`: expected one of `ignoreWebsockets`" },
    },
    {
      kind: "wrong type",
      yaml: `${OK_MODEL}    ttl: abc\n`,
      want: { line: 4, column: 10, path: "models.m.ttl", message: 'Expected an integer >= -1: got "abc"' },
    },
    {
      kind: "number out of range",
      yaml: `globalTTL: -5\n${OK_MODEL}`,
      want: { line: 1, column: 12, path: "globalTTL", message: "Expected an integer >= 0: got -5" },
    },
    {
      kind: "value not in the allowed set",
      yaml: `logToStdout: everything\n${OK_MODEL}`,
      want: { line: 1, column: 14, path: "logToStdout", message: 'Expected one of "proxy", "upstream", "both", "none": got "everything"' },
    },
    {
      kind: "bad duration",
      yaml: `performance:\n  every: 10 seconds\n${OK_MODEL}`,
      want: { line: 2, column: 10, path: "performance.every", message: 'Expected a Go duration like "5s" or "1m30s": got "10 seconds"' },
    },
    {
      kind: "duration below the minimum",
      yaml: `performance:\n  every: 500ms\n${OK_MODEL}`,
      want: { line: 2, column: 10, path: "performance.every", message: 'Expected a duration of at least 1s: got "500ms"' },
    },
    {
      kind: "missing required key",
      yaml: "models:\n  m:\n    proxy: http://127.0.0.1:1\n",
      want: { line: 3, column: 5, path: "models.m.cmd", message: "Add the required key `cmd`: expected a non-empty string" },
    },
    {
      kind: "missing proxy when cmd has no ${PORT}",
      yaml: "models:\n  m:\n    cmd: s --port 7000\n",
      want: { line: 2, column: 3, path: "models.m", message: "Set `proxy`: cmd does not use ${PORT}, so the address the server listens on is unknown" },
    },
    {
      kind: "proxy that is not a URL",
      yaml: "models:\n  m:\n    cmd: s\n    proxy: localhost:7000\n",
      want: { line: 4, column: 12, path: "models.m.proxy", message: 'Expected an http:// or https:// URL: got "localhost:7000"' },
    },
    {
      kind: "proxy using ${PORT} when cmd does not",
      yaml: "models:\n  m:\n    cmd: s --port 7000\n    proxy: http://127.0.0.1:${PORT}\n",
      want: { line: 4, column: 12, path: "models.m.proxy", message: "Use ${PORT} in cmd too, or set a fixed port: ${PORT} is only assigned to models whose cmd uses it" },
    },
    {
      kind: "duplicate alias",
      yaml: "models:\n  a:\n    cmd: s --port ${PORT}\n    aliases: [shared]\n  b:\n    cmd: s --port ${PORT}\n    aliases: [shared]\n",
      want: { line: 7, column: 15, path: "models.b.aliases[0]", message: "Rename the alias: `shared` is already an alias of model `a`" },
    },
    {
      kind: "alias that is a model id",
      yaml: "models:\n  a:\n    cmd: s --port ${PORT}\n    aliases: [b]\n  b:\n    cmd: s --port ${PORT}\n",
      want: { line: 4, column: 15, path: "models.a.aliases[0]", message: "Rename the alias: `b` is already a model id" },
    },
    {
      kind: "model in two groups",
      yaml: `${OK_MODEL}routing:\n  router:\n    settings:\n      groups:\n        g1: { members: [m] }\n        g2: { members: [m] }\n`,
      want: { line: 9, column: 25, path: "routing.router.settings.groups.g2.members[0]", message: "Keep the model in one group: `m` is also a member of group `g1`" },
    },
    {
      kind: "unset env var",
      yaml: `apiKeys: ["\${env.MISSING_KEY}"]\n${OK_MODEL}`,
      want: { line: 1, column: 11, path: "apiKeys[0]", message: "Set the environment variable `MISSING_KEY`: it is not set" },
    },
    {
      kind: "YAML syntax error",
      yaml: "models:\n  m:\n    cmd: [unclosed\n",
      want: { line: 4, column: 1, path: "" },
    },
    {
      kind: "unclosed quote in cmd",
      yaml: "models:\n  m:\n    cmd: s --port ${PORT} 'open\n",
      want: { line: 3, column: 10, path: "models.m.cmd", message: "Close the quote: a single quote is never closed" },
    },
    {
      kind: "api key with a space",
      yaml: `apiKeys: ["sk one"]\n${OK_MODEL}`,
      want: { line: 1, column: 11, path: "apiKeys[0]", message: "Remove the spaces from the API key: keys cannot contain whitespace" },
    },
    {
      kind: "bad env entry",
      yaml: `${OK_MODEL}    env: [NOEQUALS]\n`,
      want: { line: 4, column: 11, path: "models.m.env[0]", message: 'Expected NAME=value: got "NOEQUALS"' },
    },
    {
      kind: "bad checkEndpoint",
      yaml: `${OK_MODEL}    checkEndpoint: health\n`,
      want: { line: 4, column: 20, path: "models.m.checkEndpoint", message: 'Expected a path starting with "/" or "none": got "health"' },
    },
    {
      kind: "bad ignorePaths regex",
      yaml: `upstream:\n  ignorePaths: ["(unclosed"]\n${OK_MODEL}`,
      want: { line: 2, column: 17, path: "upstream.ignorePaths[0]" },
    },
    {
      kind: "mapping expected",
      yaml: "models: [a, b]\n",
      want: { line: 1, column: 9, path: "models", message: "Expected a mapping of model ids to models: got a list" },
    },
  ] as Array<{ kind: string; yaml: string; want: Record<string, unknown>; strict?: boolean }>)("$kind", ({ yaml, want, strict }) => {
    expect(onlyIssue(yaml, {}, strict === true)).toMatchObject({ file: "test.yaml", ...want });
  });
});

describe("ConfigError", () => {
  test("lists every problem, sorted by position, from every stage at once", () => {
    const yaml = [
      "startPrt: 1", // unknown key (schema stage)
      "logLevel: loud", // bad enum (schema stage)
      "models:",
      "  m:",
      "    cmd: s --port ${PORT}",
      "    ttl: x", // wrong type (schema stage)
      "  fixed:",
      "    cmd: s --port 7000", // missing proxy (resolve stage)
      "  other:",
      "    cmd: s --port ${PORT}",
      "    aliases: [m]", // alias that is a model id (reference stage)
      "",
    ].join("\n");
    expect(issuesOf(yaml, {}, true).map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      "1:1 startPrt",
      "2:11 logLevel",
      "6:10 models.m.ttl",
      "7:3 models.fixed",
      "11:15 models.other.aliases[0]",
    ]);
  });

  test("formatIssue renders file:line:column: path: message", () => {
    expect(formatIssue({ file: "config.yaml", line: 12, column: 5, path: "models.foo.ttl", message: 'Expected a number >= -1: got "abc"' })).toBe(
      'config.yaml:12:5: models.foo.ttl: Expected a number >= -1: got "abc"',
    );
  });

  test("loadConfigFile throws ConfigError whose message has one line per issue", () => {
    const tmp = tempDir("modelswap-config-");
    try {
      const file = tmp.write("config.yaml", "startPrt: 1\nmodels:\n  m:\n    cmd: s --port 7000\n");
      let caught: unknown;
      try {
        loadConfigFile(file, { selfCommand: SELF, env: {} });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      // Errors first, then the warnings found on the way (the unknown key is only a warning without --strict).
      expect((caught as ConfigError).message.split("\n")).toEqual([
        `${file}:3:3: models.m: Set \`proxy\`: cmd does not use \${PORT}, so the address the server listens on is unknown`,
        `warning: ${file}:1:1: startPrt: Remove or rename the unknown key \`startPrt\` (ignored; --strict makes it an error): did you mean \`startPort\`?`,
      ]);
      expect((caught as ConfigError).message).not.toContain("    at ");
    } finally {
      tmp.remove();
    }
  });

  test("loadConfigFile of a missing file is a ConfigError about the file, not about its line 1", () => {
    expect(() => loadConfigFile("/nonexistent/modelswap.yaml", { selfCommand: SELF })).toThrow(
      new ConfigError([{ file: "/nonexistent/modelswap.yaml", line: 0, column: 0, path: "", message: "Cannot read the config file: no such file or folder" }]),
    );
    try {
      loadConfigFile("/nonexistent/modelswap.yaml", { selfCommand: SELF });
    } catch (e) {
      expect((e as Error).message).toBe("/nonexistent/modelswap.yaml: Cannot read the config file: no such file or folder");
    }
  });

  test("loadConfigFile records the absolute path", () => {
    const tmp = tempDir("modelswap-config-");
    try {
      expect(loadConfigFile(tmp.write("c.yaml", OK_MODEL), { selfCommand: SELF, env: {} }).file).toBe(join(tmp.path, "c.yaml"));
    } finally {
      tmp.remove();
    }
  });
});
