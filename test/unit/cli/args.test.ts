import { describe, expect, test } from "bun:test";
import { defaultStateDir, parseArgs, UsageError, type Command } from "../../../src/cli/args.ts";
import { exposureWarning, isLoopback, parseListen } from "../../../src/lib/listen.ts";

const env = { env: { XDG_RUNTIME_DIR: "/run/user/1000" }, uid: 1000 };
const parse = (...argv: string[]): Command => parseArgs(argv, env);
const serveOptions = (...argv: string[]) => {
  const c = parse(...argv);
  if (c.kind !== "serve") throw new Error(`expected serve, got ${c.kind}`);
  return c.options;
};
const usageError = (...argv: string[]): UsageError => {
  try {
    parse(...argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`expected a UsageError for ${argv.join(" ")}`);
};

describe("parseArgs: serve", () => {
  test("no arguments means serve with llama-swap's defaults", () => {
    expect(serveOptions()).toEqual({
      config: "config.yaml",
      configGiven: false,
      configDir: null,
      strict: false,
      tls: null,
      listen: { hostname: "0.0.0.0", port: 8080, text: ":8080" },
      watchConfig: false,
      testHooks: false,
      testHooksUnsafe: false,
      record: null,
      stateDir: "/run/user/1000/modelswap",
    });
  });

  test.each([
    [["--config", "a.yaml"]],
    [["--config=a.yaml"]],
    [["-config", "a.yaml"]],
    [["-config=a.yaml"]],
    [["serve", "--config", "a.yaml"]],
    [["serve", "-config=a.yaml"]],
  ])("%p sets the config file", (argv) => {
    expect(serveOptions(...argv)).toMatchObject({ config: "a.yaml", configGiven: true });
  });

  test.each([
    ["--listen", "127.0.0.1:9000", "127.0.0.1", 9000],
    ["-listen", ":9001", "0.0.0.0", 9001],
    ["--listen", "[::1]:9002", "::1", 9002],
    ["--listen", "localhost:0", "localhost", 0],
  ])("%s %s binds %s port %d", (flag, value, hostname, port) => {
    expect(serveOptions(flag, value).listen).toMatchObject({ hostname, port });
  });

  test.each([
    [["--watch-config"], "watchConfig", true],
    [["-watch-config"], "watchConfig", true],
    [["-watch-config=false"], "watchConfig", false],
    [["--test-hooks"], "testHooks", true],
    [["--test-hooks", "--test-hooks-unsafe"], "testHooksUnsafe", true],
    [["--record", "rec.jsonl"], "record", "rec.jsonl"],
    [["--state-dir=/var/lib/ms"], "stateDir", "/var/lib/ms"],
    [["--config-dir", "conf.d"], "configDir", "conf.d"],
    [["-config-dir=conf.d"], "configDir", "conf.d"],
    [["--strict"], "strict", true],
    [["-tls-cert-file", "c.pem", "-tls-key-file", "k.pem"], "tls", { cert: "c.pem", key: "k.pem" }],
    [["--tls-cert-file=c.pem", "--tls-key-file=k.pem"], "listen", { hostname: "0.0.0.0", port: 8443, text: ":8443" }],
    [["--tls-cert-file=c.pem", "--tls-key-file=k.pem", "--listen", ":9443"], "listen", { hostname: "0.0.0.0", port: 9443, text: ":9443" }],
  ])("%p sets %s", (argv, key, value) => {
    expect(serveOptions(...argv)[key as keyof ReturnType<typeof serveOptions>]).toEqual(value);
  });
});

describe("parseArgs: other commands", () => {
  test.each<[string[], Command]>([
    [["--version"], { kind: "version" }],
    [["-version"], { kind: "version" }],
    [["version"], { kind: "version" }],
    [["--help"], { kind: "help", topic: null }],
    [["-h"], { kind: "help", topic: null }],
    [["serve", "--help"], { kind: "help", topic: "serve" }],
    [["help"], { kind: "help", topic: null }],
    [["help", "validate"], { kind: "help", topic: "validate" }],
    [["validate", "--help"], { kind: "help", topic: "validate" }],
    [["validate"], { kind: "validate", options: { config: "config.yaml", configGiven: false, configDir: null, strict: false } }],
    [["validate", "-config", "x.yaml"], { kind: "validate", options: { config: "x.yaml", configGiven: true, configDir: null, strict: false } }],
    [["validate", "x.yaml"], { kind: "validate", options: { config: "x.yaml", configGiven: true, configDir: null, strict: false } }],
    [["validate", "--strict", "--config-dir", "d", "x.yaml"], { kind: "validate", options: { config: "x.yaml", configGiven: true, configDir: "d", strict: true } }],
    [["replay", "rec.jsonl"], { kind: "replay", file: "rec.jsonl", check: false }],
    [["replay", "--check", "rec.jsonl"], { kind: "replay", file: "rec.jsonl", check: true }],
  ])("%p → %o", (argv, expected) => {
    expect(parse(...argv)).toEqual(expected);
  });

  test("fake-upstream parses every knob", () => {
    expect(
      parse(
        "fake-upstream", "--port", "5000", "--host", "0.0.0.0", "--model", "m1", "--start-delay", "2s",
        "--tokens", "3", "--token-interval=50ms", "--exit-after-requests", "2", "--health-fail", "--error-status", "400", "--ignore-sigterm", "--verbose",
      ),
    ).toEqual({
      kind: "fake-upstream",
      options: {
        port: 5000, host: "0.0.0.0", model: "m1", startDelayMs: 2000, tokens: 3, tokenIntervalMs: 50,
        exitAfterRequests: 2, healthFail: true, errorStatus: 400, ignoreSigterm: true, verbose: true,
      },
    });
  });

  test("fake-upstream defaults", () => {
    expect(parse("fake-upstream")).toEqual({
      kind: "fake-upstream",
      options: {
        port: 0, host: "127.0.0.1", model: null, startDelayMs: 0, tokens: 8, tokenIntervalMs: 10,
        exitAfterRequests: null, healthFail: false, errorStatus: null, ignoreSigterm: false, verbose: false,
      },
    });
  });
});

describe("parseArgs: errors", () => {
  test.each([
    [["--confg", "x"], "unknown option '--confg' (did you mean '--config'?)", null],
    [["-lisen", ":1"], "unknown option '-lisen' (did you mean '--listen'?)", null],
    [["--zzzzzz"], "unknown option '--zzzzzz'", null],
    [["--config"], "option '--config' requires a value FILE", null],
    [["--config", "--listen", ":1"], "option '--config' requires a value FILE", null],
    [["--listen", "8080"], "invalid value for '--listen': expected HOST:PORT or :PORT, got '8080'", null],
    [["--listen", ":70000"], "invalid value for '--listen': port must be 0-65535, got 70000", null],
    [["--watch-config=maybe"], "invalid value 'maybe' for '--watch-config': expected true or false", null],
    [["serve", "extra"], "unexpected argument 'extra'", "serve"],
    [["valdate"], "unknown command 'valdate' (did you mean 'validate'?)", null],
    [["frobnicate"], "unknown command 'frobnicate'", null],
    [["help", "sevre"], "unknown command 'sevre' (did you mean 'serve'?)", "help"],
    [["validate", "--listen", ":1"], "unknown option '--listen'", "validate"],
    [["replay"], "missing argument FILE", "replay"],
    [["fake-upstream", "--port", "x"], "invalid value 'x' for '--port': expected an integer from 0 to 65535", "fake-upstream"],
    [["fake-upstream", "--token-interval", "fast"], "invalid value for '--token-interval': expected a number with an optional unit (ms, s, m, h), got 'fast'", "fake-upstream"],
    [["fake-upstream", "--error-status", "200"], "invalid value '200' for '--error-status': expected an integer from 400 to 599", "fake-upstream"],
    [["fake-upstream", "--start-delay", "5"], "invalid value for '--start-delay': add a unit to '5' (5s for seconds, 5ms for milliseconds)", "fake-upstream"],
    [["--tls-cert-file", "c.pem"], "option '--tls-key-file' is required with '--tls-cert-file': HTTPS needs both", null],
    [["--tls-key-file", "k.pem"], "option '--tls-cert-file' is required with '--tls-key-file': HTTPS needs both", null],
    [["validate", "a.yaml", "--config", "b.yaml"], "give the config file once: both 'a.yaml' and '--config b.yaml'", "validate"],
    [["validate", "a.yaml", "b.yaml"], "unexpected argument 'b.yaml'", "validate"],
    [["fake-upstream", "--exit-after-requests", "0"], "invalid value '0' for '--exit-after-requests': expected an integer from 1 to 9007199254740991", "fake-upstream"],
  ])("%p fails with: %s", (argv, message, command) => {
    const e = usageError(...argv);
    expect(e.message).toBe(message);
    expect(e.command).toBe(command as never);
  });
});

describe("helpers", () => {
  test.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["0.0.0.0", false],
    ["192.168.1.2", false],
  ])("isLoopback(%p) = %p", (host, loop) => expect(isLoopback(host)).toBe(loop));

  test("parseListen keeps the text as written", () => {
    expect(parseListen("[::]:80")).toEqual({ hostname: "::", port: 80, text: "[::]:80" });
  });

  test("state dir falls back to /tmp/modelswap-UID without XDG_RUNTIME_DIR", () => {
    expect(defaultStateDir({ env: {}, uid: 42 })).toBe("/tmp/modelswap-42");
  });
});

describe("exposureWarning", () => {
  test.each([":8080", "0.0.0.0:8080", "[::]:8080"])("%s with no apiKeys: a loud warning that anyone on the network can run models", (text) => {
    const w = exposureWarning(parseListen(text), []);
    expect(w?.split("\n")).toEqual([
      `WARNING: modelswap listens on every interface (${text}) and no apiKeys are set:`,
      "WARNING: any host that can reach this machine can run, use and stop your models.",
      "WARNING: set apiKeys in the config, or use --listen 127.0.0.1:8080 to keep it local.",
    ]);
  });

  test("with apiKeys: one line", () => {
    expect(exposureWarning(parseListen(":8080"), ["k"])).toBe(
      "warning: listening on every interface (:8080): every host that can reach this machine can reach modelswap (apiKeys are required); use --listen 127.0.0.1:8080 to keep it local",
    );
  });

  test.each(["127.0.0.1:8080", "localhost:8080", "192.168.1.5:8080", "[::1]:8080"])("%s: none", (text) => {
    expect(exposureWarning(parseListen(text), [])).toBeNull();
  });
});
