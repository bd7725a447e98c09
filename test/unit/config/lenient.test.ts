/**
 * A llama-swap user's file loads: unknown keys are warnings with their
 * position and a did-you-mean (errors with --strict), keys accepted for
 * compatibility that do nothing say so, and a schema error in one model does
 * not hide that model's other errors.
 */
import { describe, expect, test } from "bun:test";
import { issuesOf, load } from "./helpers.ts";
import { IGNORED_KEYS } from "../../../src/config/compat-keys.ts";

const OK_MODEL = "models:\n  m:\n    cmd: s --port ${PORT}\n";

describe("unknown keys", () => {
  test("are warnings with file:line:col and did-you-mean, and the file loads", () => {
    const c = load(`logLevl: debug\nfutureFeature: {a: 1}\n${OK_MODEL}    tll: 5\n`);
    expect(c.logLevel).toBe("info");
    expect(c.warnings).toEqual([
      "test.yaml:1:1: logLevl: Remove or rename the unknown key `logLevl` (ignored; --strict makes it an error): did you mean `logLevel`?",
      expect.stringMatching(/^test\.yaml:2:1: futureFeature: Remove or rename the unknown key `futureFeature` \(ignored; --strict makes it an error\): expected one of `healthCheckTimeout`, /),
      "test.yaml:6:5: models.m.tll: Remove or rename the unknown key `tll` (ignored; --strict makes it an error): did you mean `ttl`?",
    ]);
  });

  test("are errors with --strict", () => {
    expect(issuesOf(`logLevl: debug\n${OK_MODEL}`, {}, true)).toEqual([
      { file: "test.yaml", line: 1, column: 1, path: "logLevl", message: "Remove or rename the unknown key `logLevl`: did you mean `logLevel`?" },
    ]);
  });

  test("do not hide real errors, which still fail the load", () => {
    expect(issuesOf(`logLevl: debug\n${OK_MODEL}    ttl: soon\n`).map((i) => i.path)).toEqual(["models.m.ttl"]);
  });
});

describe("keys accepted for compatibility but without effect", () => {
  test("store is honoured (SQLite activity), so it is not reported", () => {
    const c = load(`store:\n  path: activity.db\n${OK_MODEL}`);
    expect(c.store).toEqual({ path: "activity.db" });
    expect(c.warnings).toEqual([]);
  });

  test("ui.activity.session_id is reported at its position with the reason", () => {
    expect(load(`ui:\n  activity:\n    session_id: [X-Session]\n${OK_MODEL}`).warnings).toEqual([
      "test.yaml:3:5: ui.activity.session_id: Remove `session_id` (it has no effect): modelswap's activity log does not group requests by a session header",
    ]);
  });

  test.each(IGNORED_KEYS.filter((k) => k.path.length === 4).map((k) => [k.path.join("."), k] as const))("%s is reported at its position with the reason", (_name, key) => {
    const [section, , ...rest] = key.path;
    const nested = rest.reduceRight<string>((inner, k, i) => `\n${"  ".repeat(i + 2)}${k}:${inner}`, " 5");
    // Keys ignored only for an https: upstream (fetch carries it) are set on one.
    const scheme = key.when === undefined ? "http" : "https";
    const entry = section === "models" ? `  m:\n    cmd: s --port \${PORT}\n    proxy: ${scheme}://127.0.0.1:\${PORT}` : `  p:\n    proxy: ${scheme}://127.0.0.1:9\n    models: [x]`;
    const yaml = `${section === "peers" ? OK_MODEL : ""}${section}:\n${entry}${nested}\n`;
    const c = load(yaml);
    const leaf = key.path[key.path.length - 1]!;
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(new RegExp(`^test\\.yaml:\\d+:\\d+: ${section}\\.[mp]\\.${rest.join("\\.")}: Remove \`${leaf}\` \\(it has no effect\\): `));
    expect(c.warnings[0]).toContain(key.reason);
  });

  test("timeouts.connect and keepalive of a plain-HTTP model or peer work (the pooled client honours them), so they are not reported", () => {
    const timeouts = "    timeouts:\n      connect: 5\n      keepalive: 15\n";
    const c = load(`models:\n  m:\n    cmd: s --port \${PORT}\n${timeouts}peers:\n  p:\n    proxy: http://10.0.0.2:8080\n    models: [x]\n${timeouts}`);
    expect(c.warnings).toEqual([]);
    expect(c.models.m?.timeouts).toMatchObject({ connect: 5, keepalive: 15 });
  });

  test("are not reported when the file does not set them", () => {
    expect(load(OK_MODEL).warnings).toEqual([]);
  });
});

describe("messages about values modelswap changes", () => {
  test("healthCheckTimeout below 15 warns that 15 is used", () => {
    const c = load(`healthCheckTimeout: 5\n${OK_MODEL}`);
    expect(c.healthCheckTimeout).toBe(15);
    expect(c.warnings).toEqual(["test.yaml:1:21: healthCheckTimeout: Raise `healthCheckTimeout` to at least 15: 5s is used as 15s, as llama-swap does"]);
  });

  test("healthCheckTimeout of 15 or more is quiet", () => {
    expect(load(`healthCheckTimeout: 15\n${OK_MODEL}`).warnings).toEqual([]);
  });
});

describe("one schema error does not hide a model's other errors", () => {
  test("a model with a bad ttl still has its bad proxy reported", () => {
    const yaml = "models:\n  m:\n    cmd: s --port ${PORT}\n    ttl: soon\n    proxy: ftp://x\n";
    expect(issuesOf(yaml).map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '4:10 models.m.ttl: Expected an integer >= -1: got "soon"',
      '5:12 models.m.proxy: Expected an http:// or https:// URL: got "ftp://x"',
    ]);
  });

  test("a model without cmd still has its other errors reported, and so do the other models", () => {
    const yaml = [
      "models:",
      "  a:",
      "    cmd: s --port ${PORT}",
      "    proxy: ftp://a",
      "  b:",
      "    checkEndpoint: health",
      "    proxy: ftp://b",
      "    cmdStop: kill ${PORT2}",
      "",
    ].join("\n");
    expect(issuesOf(yaml).map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      "4:12 models.a.proxy",
      "6:5 models.b.cmd",
      "6:20 models.b.checkEndpoint",
      "7:12 models.b.proxy",
      "8:14 models.b.cmdStop",
    ]);
  });
});

describe("comfyui_auto, the model /comfyui/ serves", () => {
  test("gets llama-swap's settings: at least 50 concurrent requests, websockets ignored for activity", () => {
    const c = load("models:\n  comfyui_auto:\n    cmd: comfy --port ${PORT}\n  other:\n    cmd: s --port ${PORT}\n");
    expect(c.models.comfyui_auto).toMatchObject({ concurrencyLimit: 50, ignoreWebsockets: true });
    expect(c.models.other).toMatchObject({ concurrencyLimit: 10, ignoreWebsockets: false });
    expect(load("models:\n  comfyui_auto:\n    cmd: comfy --port ${PORT}\n    concurrencyLimit: 80\n").models.comfyui_auto?.concurrencyLimit).toBe(80);
  });
});

describe("cors.allowOrigins", () => {
  test("unset: null, every origin allowed (llama-swap's behaviour)", () => {
    expect(load(OK_MODEL).cors).toEqual({ allowOrigins: null });
  });

  test("a list of origins and *", () => {
    expect(load(`cors:\n  allowOrigins: ["https://app.example.com", "http://localhost:3000", "*"]\n${OK_MODEL}`).cors.allowOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:3000",
      "*",
    ]);
  });

  test.each(["https://app.example.com/", "app.example.com", "https://app.example.com/path", "ftp://x.example"])("%p is not an origin: an error at it", (origin) => {
    expect(issuesOf(`cors:\n  allowOrigins: ["${origin}"]\n${OK_MODEL}`)).toEqual([
      {
        file: "test.yaml",
        line: 2,
        column: 18,
        path: "cors.allowOrigins[0]",
        message: `Expected an origin like "https://app.example.com" (scheme, host and port only, no trailing slash): got ${JSON.stringify(origin)}`,
      },
    ]);
  });
});
