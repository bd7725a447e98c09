/**
 * The README's "Testing your application in CI" example, run exactly as a
 * user runs it: `MODELSWAP=… test/ci-example/check.sh`, from source and with
 * the compiled binary. It must pass, and it must fail when the config breaks
 * what it checks (a script that cannot fail proves nothing).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { tempDir } from "../helpers/configs.ts";
import { BUN, MAIN_TS, REPO_ROOT, cleanupProcesses, findPids, spawnProcess } from "../helpers/processes.ts";

const SCRIPT = `${REPO_ROOT}/test/ci-example/check.sh`;
const CONFIG = `${REPO_ROOT}/test/ci-example/config.yaml`;
const FROM_SOURCE = `${BUN} ${MAIN_TS}`;

const tmp = tempDir("modelswap-ci-example-");
/** A binary built for this file (or $MODELSWAP_BINARY), so other tests rebuilding dist/ do not race it. */
const binary = process.env.MODELSWAP_BINARY ?? `${tmp.path}/modelswap`;

beforeAll(async () => {
  if (process.env.MODELSWAP_BINARY) return;
  const build = spawnProcess([BUN, `${REPO_ROOT}/scripts/build.ts`, "--outfile", binary]);
  const code = await build.waitForExit(120_000);
  if (code !== 0) throw new Error(`Build failed with status ${code}:\n${build.stdout()}\n${build.stderr()}`);
}, 120_000);
afterEach(cleanupProcesses);
afterAll(tmp.remove);

/** Runs check.sh the way the README shows; resolves with its status and output. */
async function runCheck(env: Record<string, string>, cwd = REPO_ROOT) {
  const p = spawnProcess(["bash", SCRIPT], { env, cwd });
  const code = await p.waitForExit(60_000);
  await p.outputClosed;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Model servers the example's config starts carry `--model fake-model-…` on their command line. */
const leftoverModels = () => findPids("--model fake-model-");

describe("test/ci-example/check.sh", () => {
  test("passes with modelswap run from source", async () => {
    const r = await runCheck({ MODELSWAP: FROM_SOURCE });
    expect({ code: r.code, stdout: r.stdout, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stdout: "OK: swap, TTL unload and crash recovery behave as expected\n", stderr: "" });
    expect(leftoverModels()).toEqual([]);
  });

  test("passes with the compiled binary, run from a directory without the source", async () => {
    const r = await runCheck({ MODELSWAP: binary }, tmp.path);
    expect({ code: r.code, stdout: r.stdout, stderr: r.code === 0 ? "" : r.stderr }).toEqual({
      code: 0,
      stdout: "OK: swap, TTL unload and crash recovery behave as expected\n",
      stderr: "",
    });
    expect(leftoverModels()).toEqual([]);
  });

  test.each([
    ["a shorter TTL than the script expects", (c: string) => c.replace("ttl: 60", "ttl: 30"), "FAIL: model-a is not ready"],
    ["no TTL at all", (c: string) => c.replace("ttl: 60", "ttl: 0"), "FAIL: model-a is still running"],
    ["a model that answers under another name", (c: string) => c.replace("--model fake-model-b", "--model other"), "FAIL: the reply for model-b came from elsewhere"],
  ])("fails, naming the check, with %s", async (name, edit, message) => {
    const config = tmp.write(`${name.replace(/\W+/g, "-")}.yaml`, edit(readFileSync(CONFIG, "utf8")));
    const r = await runCheck({ MODELSWAP: FROM_SOURCE, CONFIG: config });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(leftoverModels()).toEqual([]);
  });

  test("is what the README shows, word for word, with its config and workflow", () => {
    const readme = readFileSync(`${REPO_ROOT}/README.md`, "utf8");
    if (!readme.includes("## Testing your application in CI")) return; // section not pasted in yet
    for (const file of [SCRIPT, CONFIG, `${REPO_ROOT}/.github/workflows/example-app-ci.yml`]) {
      expect(readme).toContain(readFileSync(file, "utf8"));
    }
  });

  test("fails when modelswap cannot start", async () => {
    const r = await runCheck({ MODELSWAP: FROM_SOURCE, CONFIG: `${tmp.path}/missing.yaml` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FAIL: modelswap did not start");
  });
});

describe(".github/workflows", () => {
  type Workflow = { jobs: Record<string, { steps: Array<{ uses?: string; run?: string; env?: Record<string, string> }> }> };
  const steps = (file: string) => Object.values((parse(readFileSync(`${REPO_ROOT}/.github/workflows/${file}`, "utf8")) as Workflow).jobs).flatMap((j) => j.steps);

  test("ci.yml checks out, sets up Node, runs npm ci and npm test", () => {
    const s = steps("ci.yml");
    expect(s.map((x) => x.uses ?? x.run)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "npm ci", "npm test"]);
  });

  test("example-app-ci.yml builds modelswap and runs the example script with MODELSWAP set to the binary", () => {
    const s = steps("example-app-ci.yml");
    expect(s.map((x) => x.run).filter(Boolean)).toEqual(["npm ci && npm run build", "bash .modelswap/test/ci-example/check.sh"]);
    expect(s.at(-1)!.env).toEqual({ MODELSWAP: "${{ github.workspace }}/.modelswap/dist/modelswap" });
  });
});
