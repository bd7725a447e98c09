/**
 * The command line from source, as a user meets it: help, errors with exit
 * status 2, and `validate` reporting every problem with file:line:col.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BAD_CONFIG, fakeModelConfig, GOOD_CONFIG, tempDir } from "../helpers/configs.ts";
import { deserialize, serialize } from "bun:jsc";
import { postChat } from "../helpers/chat.ts";
import { BUN, cleanupProcesses, findPids, freePort, MAIN_TS, runModelswap, spawnModelswap, waitGone } from "../helpers/processes.ts";

const tmp = tempDir("modelswap-cli-");
const dir = tmp.path;
const configFile = tmp.write;
afterAll(tmp.remove);
afterEach(cleanupProcesses);

describe("help and version", () => {
  test.each([[["--help"]], [["help"]], [["-h"]]])("%p prints the general help and exits 0", async (argv) => {
    const r = await runModelswap(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("USAGE:");
    expect(r.stdout).toContain("COMMANDS:");
    expect(r.stdout).toMatch(/validate\s+Check a configuration file/);
    expect(r.stdout).toContain("[default: config.yaml]");
    expect(r.stderr).toBe("");
  });

  test.each([[["help", "validate"]], [["validate", "--help"]]])("%p prints the help of validate", async (argv) => {
    const r = await runModelswap(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("modelswap validate [FILE | --config FILE] [--config-dir DIR] [--strict]");
  });

  test.each([[["--version"]], [["-version"]], [["version"]]])("%p prints 'modelswap VERSION (bun X, OS-ARCH)'", async (argv) => {
    const r = await runModelswap(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^modelswap \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+, \w+-\w+\)\n$/);
  });
});

describe("command-line errors exit 2 with one line, then the usage", () => {
  test.each([
    [["--confg", "x.yaml"], "modelswap: unknown option '--confg' (did you mean '--config'?)"],
    [["validate", "--config"], "modelswap: option '--config' requires a value FILE"],
    [["valdate"], "modelswap: unknown command 'valdate' (did you mean 'validate'?)"],
    [["--listen", "8080"], "modelswap: invalid value for '--listen': expected HOST:PORT or :PORT, got '8080'"],
  ])("%p", async (argv, line) => {
    const r = await runModelswap(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n");
    expect(lines[0]).toBe(line);
    expect(r.stderr).toContain("USAGE:");
    expect(r.stderr).not.toContain("    at "); // no stack trace
  });

  test("--test-hooks on every interface is refused unless --test-hooks-unsafe", async () => {
    const r = await runModelswap(["--test-hooks", "--listen", ":0", "--config", configFile("hooks.yaml", GOOD_CONFIG)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to enable --test-hooks on ':0'");
    expect(r.stderr).toContain("--test-hooks-unsafe");
  });
});

describe("the config loader child serve runs (__load-config)", () => {
  async function load(file: string) {
    const child = Bun.spawn([BUN, MAIN_TS, "__load-config"], {
      stdin: new Uint8Array(serialize({ target: { file, dir: null }, selfCommand: [BUN, MAIN_TS], env: {} })),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, code] = await Promise.all([new Response(child.stdout).arrayBuffer(), child.exited]);
    expect(code).toBe(0);
    return deserialize(out) as { ok: true; config: { models: Record<string, unknown> } } | { ok: false; configError: boolean; message: string };
  }

  test("answers the parsed config, or the errors serve prints", async () => {
    const good = await load(configFile("child-good.yaml", GOOD_CONFIG));
    expect(good.ok && Object.keys(good.config.models).length).toBe(2);
    const bad = await load(configFile("child-bad.yaml", BAD_CONFIG));
    expect(bad).toMatchObject({ ok: false, configError: true });
    expect(!bad.ok && bad.message).toContain("child-bad.yaml:");
  });

  test("serve with a bad file reports exactly what validate reports (file, line, key), exit 1", async () => {
    const file = configFile("serve-bad.yaml", BAD_CONFIG);
    const served = await runModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", join(dir, "serve-bad-state")]);
    const validated = await runModelswap(["validate", "--config", file]);
    expect(served.code).toBe(1);
    expect(served.stderr).toMatch(/serve-bad\.yaml:4:\d+: models\.a\.ttl: /);
    expect(served.stderr).toBe(validated.stderr);
  });
});

describe("validate", () => {
  test("a good file: exit 0 and a one-line summary", async () => {
    const file = configFile("good.yaml", GOOD_CONFIG);
    const r = await runModelswap(["validate", "--config", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${file}: OK, 2 models, 1 group, 0 peers\n`);
  });

  test("a bad file: exit 1 and every error as file:line:col: path: message, no stack trace", async () => {
    const file = configFile("bad.yaml", BAD_CONFIG);
    const r = await runModelswap(["validate", "-config", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(new RegExp(`^${file.replace(/[.]/g, "\\.")}:\\d+:\\d+: `));
    expect(r.stderr).toMatch(/:4:\d+: models\.a\.ttl: /);
    expect(r.stderr).toMatch(/:6:\d+: models\.b\.proxy: /);
    expect(r.stderr).not.toContain("    at ");
  });

  test("a missing file: exit 1 with one line", async () => {
    const r = await runModelswap(["validate", "--config", join(dir, "nope.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("nope.yaml");
  });
});

describe("serve", () => {
  /** Starts serve on a free loopback port with one fake model `m` on `startPort`. */
  async function startServe(modelArgs: string, extra = "") {
    const startPort = freePort();
    const file = configFile(`serve-${startPort}.yaml`, fakeModelConfig(startPort, modelArgs, extra));
    const p = spawnModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", join(dir, `state-${startPort}`)]);
    const url = (await p.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    return { p, url, needle: `fake-upstream --port ${startPort} ` };
  }

  /** Starts a streamed chat completion and resolves once its first bytes arrived. */
  async function openStream(url: string) {
    const res = await postChat(url, "m", { stream: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    const rest = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return text;
          text += decoder.decode(value);
        }
      } catch {
        return text;
      }
    })();
    return { rest };
  }

  const modelGone = async (needle: string) => {
    for (const pid of findPids(needle)) await waitGone(pid);
    expect(findPids(needle)).toEqual([]);
  };

  test("SIGTERM lets an in-flight stream finish, stops every model, exits 0", async () => {
    const { p, url, needle } = await startServe("--tokens 10 --token-interval 50ms");
    const stream = await openStream(url);
    expect(findPids(needle)).toHaveLength(1);
    p.proc.kill("SIGTERM");
    expect(await stream.rest).toContain("data: [DONE]");
    expect(await p.waitForExit()).toBe(0);
    await modelGone(needle);
  });

  test("a second signal forces: exit 1 without waiting for the stream, models killed", async () => {
    const { p, url, needle } = await startServe("--tokens 1000 --token-interval 50ms");
    const stream = await openStream(url);
    p.proc.kill("SIGTERM");
    await p.waitForOutput(/draining/);
    p.proc.kill("SIGINT");
    expect(await p.waitForExit()).toBe(1);
    expect(await stream.rest).not.toContain("data: [DONE]");
    await modelGone(needle);
  });

  test("preload starts the listed models right after startup", async () => {
    const { p, needle } = await startServe("--tokens 1", "hooks:\n  on_startup:\n    preload: [m]\n");
    await p.waitForOutput(/preloaded m/);
    expect(findPids(needle)).toHaveLength(1);
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
    await modelGone(needle);
  });
});

describe("replay", () => {
  test("a session recorded by serve --record replays with no mismatch", async () => {
    const startPort = freePort();
    const record = join(dir, `rec-${startPort}.jsonl`);
    const file = configFile(`rec-${startPort}.yaml`, fakeModelConfig(startPort));
    const p = spawnModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", join(dir, "rec-state"), "--record", record]);
    const url = (await p.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    const res = await postChat(url, "m");
    expect(res.status).toBe(200);
    await res.text();
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
    const r = await runModelswap(["replay", "--check", record]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: [1-9]\d* events replayed, 0 mismatches\n$/);
  });

  test("a missing recording: exit 1 with one line", async () => {
    const r = await runModelswap(["replay", join(dir, "none.jsonl")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
