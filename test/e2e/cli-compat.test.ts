/**
 * A llama-swap user's habits on the command line: a file with keys modelswap
 * does not know starts with warnings (and fails with --strict), `validate
 * FILE`, `--config-dir`, and messages that say what modelswap did.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fakeModelConfig, GOOD_CONFIG, tempDir } from "../helpers/configs.ts";
import { cleanupProcesses, freePort, runModelswap, spawnModelswap } from "../helpers/processes.ts";
import { poll } from "../../src/lib/async.ts";

const tmp = tempDir("modelswap-cli-compat-");
afterAll(tmp.remove);
afterEach(cleanupProcesses);

const WITH_UNKNOWN = `${GOOD_CONFIG}logLevl: debug\nnewerLlamaSwapKey: true\n`;

describe("validate", () => {
  test("unknown keys: exit 0, each printed as a warning with file:line:col and did-you-mean", async () => {
    const file = tmp.write("unknown.yaml", WITH_UNKNOWN);
    const r = await runModelswap(["validate", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${file}: OK, 2 models, 1 group, 0 peers\n`);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe(`warning: ${file}:10:1: logLevl: Remove or rename the unknown key \`logLevl\` (ignored; --strict makes it an error): did you mean \`logLevel\`?`);
    expect(lines[1]).toStartWith(`warning: ${file}:11:1: newerLlamaSwapKey: Remove or rename the unknown key \`newerLlamaSwapKey\``);
    expect(lines).toHaveLength(2);
  });

  test("--strict makes unknown keys errors: exit 1", async () => {
    const file = tmp.write("unknown-strict.yaml", WITH_UNKNOWN);
    const r = await runModelswap(["validate", "--strict", "--config", file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")[0]).toBe(`${file}:10:1: logLevl: Remove or rename the unknown key \`logLevl\`: did you mean \`logLevel\`?`);
  });

  test("a missing file is reported as the file, not at line 1 column 1", async () => {
    const missing = join(tmp.path, "nope.yaml");
    const r = await runModelswap(["validate", missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${missing}: Cannot read the config file: no such file or folder\n`);
  });

  test("a cmd whose program is not on PATH is a warning at that cmd", async () => {
    const file = tmp.write("nopath.yaml", "models:\n  m:\n    cmd: llama-server-not-installed-here --port ${PORT}\n");
    const r = await runModelswap(["validate", file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: ${file}:3:10: models.m.cmd: Install \`llama-server-not-installed-here\` or fix cmd: it is not on PATH\n`);
  });

  test("healthCheckTimeout below 15 warns that it is raised", async () => {
    const file = tmp.write("hct.yaml", `healthCheckTimeout: 5\n${GOOD_CONFIG}`);
    const r = await runModelswap(["validate", file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: ${file}:1:21: healthCheckTimeout: Raise \`healthCheckTimeout\` to at least 15: 5s is used as 15s, as llama-swap does\n`);
  });

  test("--config-dir merges the folder's files with --config, and names the right file in errors", async () => {
    const dir = join(tmp.path, "conf.d");
    mkdirSync(dir);
    const main = tmp.write("main.yaml", GOOD_CONFIG);
    tmp.write("conf.d/10-more.yaml", "models:\n  c:\n    cmd: ${MODELSWAP} fake-upstream --port ${PORT}\n");
    const ok = await runModelswap(["validate", "--config", main, "--config-dir", dir]);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toBe(`${main} + ${dir}: OK, 3 models, 1 group, 0 peers\n`);
    tmp.write("conf.d/20-bad.yaml", "models:\n  d:\n    cmd: x --port ${PORT}\n    ttl: later\n");
    const bad = await runModelswap(["validate", main, "--config-dir", dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`${join(dir, "20-bad.yaml")}:4:10: models.d.ttl: Expected an integer >= -1: got "later"\n`);
  });
});

describe("serve", () => {
  async function serveWith(file: string, ...extra: string[]) {
    const p = spawnModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", join(tmp.path, `state-${freePort()}`), ...extra]);
    return p;
  }

  test("a file with unknown keys starts, printing the warnings first", async () => {
    const p = await serveWith(tmp.write("serve-unknown.yaml", `${fakeModelConfig(freePort())}logLevl: debug\n`));
    const [, url] = await p.waitForOutput(/listening on (http:\/\/\S+)/);
    expect(p.stderr()).toContain("warning: ");
    expect(p.stderr()).toContain("logLevl: Remove or rename the unknown key `logLevl` (ignored; --strict makes it an error): did you mean `logLevel`?");
    expect((await fetch(`${url}/v1/models`)).status).toBe(200);
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
  });

  test("listening on every interface without apiKeys prints the loud warning; on loopback nothing", async () => {
    const open = spawnModelswap(["--config", tmp.write("exposed.yaml", fakeModelConfig(freePort())), "--listen", ":0", "--state-dir", join(tmp.path, "state-exposed")]);
    await open.waitForOutput(/listening on http/);
    expect(open.stderr()).toContain("WARNING: modelswap listens on every interface (:0) and no apiKeys are set:");
    open.proc.kill("SIGTERM");
    expect(await open.waitForExit()).toBe(0);
    const keyed = spawnModelswap(["--config", tmp.write("keyed.yaml", `${fakeModelConfig(freePort())}apiKeys: [k]\n`), "--listen", ":0", "--state-dir", join(tmp.path, "state-keyed")]);
    await keyed.waitForOutput(/listening on http/);
    expect(keyed.stderr()).toContain("warning: listening on every interface (:0): every host that can reach this machine can reach modelswap (apiKeys are required)");
    expect(keyed.stderr()).not.toContain("WARNING");
    keyed.proc.kill("SIGTERM");
    expect(await keyed.waitForExit()).toBe(0);
    const local = await serveWith(tmp.write("local.yaml", fakeModelConfig(freePort())));
    await local.waitForOutput(/listening on http/);
    expect(local.stderr()).not.toContain("every interface");
    local.proc.kill("SIGTERM");
    expect(await local.waitForExit()).toBe(0);
  });

  test("store.path keeps the Activity log in SQLite across a restart", async () => {
    const db = join(tmp.path, "activity.db");
    const file = tmp.write("store.yaml", `${fakeModelConfig(freePort())}store:\n  path: ${db}\n`);
    const activity = async (url: string) => ((await (await fetch(`${url}/api/metrics/activity`)).json()) as { data: Array<{ id: number; model: string }> }).data;
    const first = await serveWith(file);
    const url1 = (await first.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    const res = await fetch(`${url1}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [] }) });
    expect(res.status).toBe(200);
    await res.text();
    await poll(async () => ((await activity(url1)).length === 1 ? true : undefined), 20, { signal: AbortSignal.timeout(10_000) });
    first.proc.kill("SIGTERM");
    expect(await first.waitForExit()).toBe(0);
    expect(first.stderr()).not.toContain("store");

    const second = await serveWith(file);
    const url2 = (await second.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    expect((await activity(url2)).map((e) => [e.id, e.model])).toEqual([[1, "m"]]);
    second.proc.kill("SIGTERM");
    expect(await second.waitForExit()).toBe(0);
  });

  test("--strict refuses to start on an unknown key: exit 1", async () => {
    const file = tmp.write("serve-strict.yaml", `${fakeModelConfig(freePort())}logLevl: debug\n`);
    const p = await serveWith(file, "--strict");
    expect(await p.waitForExit()).toBe(1);
    expect(p.stderr()).toContain(`${file}:6:1: logLevl: Remove or rename the unknown key \`logLevl\`: did you mean \`logLevel\`?`);
  });
});

describe("fake-upstream", () => {
  test("--start-delay without a unit is refused rather than read as milliseconds", async () => {
    const r = await runModelswap(["fake-upstream", "--start-delay", "5"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("modelswap: invalid value for '--start-delay': add a unit to '5' (5s for seconds, 5ms for milliseconds)");
  });
});
