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
import { BUN, MAIN_TS, REPO_ROOT, cleanupProcesses, findPids, freePortRange, spawnProcess } from "../helpers/processes.ts";

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

/** The example config with its ports moved, and edited by `edit`, written to a file. */
function exampleConfig(edit: (text: string) => string = (t) => t): { file: string; ports: number[] } {
  // Two adjacent free ports below the ephemeral range: other suites may run on this machine at the same time.
  const port = freePortRange(2);
  const text = readFileSync(CONFIG, "utf8");
  const moved = text.replace(/^startPort: 5800\b/m, `startPort: ${port}`);
  if (moved === text) throw new Error("Cannot find 'startPort: 5800' in test/ci-example/config.yaml");
  return { file: tmp.write(`config-${port}.yaml`, edit(moved)), ports: [port, port + 1] };
}

/** Runs check.sh the way the README shows and resolves with its status, output and the model servers left running. */
async function runCheck(modelswap: string, config: { file: string; ports: number[] } | string, cwd = REPO_ROOT) {
  const file = typeof config === "string" ? config : config.file;
  const p = spawnProcess(["bash", SCRIPT], { env: { MODELSWAP: modelswap, CONFIG: file }, cwd });
  const code = await p.waitForExit(60_000);
  await p.outputClosed;
  const ports = typeof config === "string" ? [] : config.ports;
  return { code, stdout: p.stdout(), stderr: p.stderr(), leftovers: ports.flatMap((port) => findPids(`--port ${port} `)) };
}

const OK = "OK: swap, TTL unload, crash recovery and restart backoff behave as expected\n";

describe("test/ci-example/check.sh", () => {
  test.each([
    ["modelswap run from source", () => FROM_SOURCE, REPO_ROOT],
    ["the compiled binary, run from a directory without the source", () => binary, tmp.path],
  ])("passes with %s, and leaves no model server running", async (_, modelswap, cwd) => {
    const r = await runCheck(modelswap(), exampleConfig(), cwd);
    expect({ code: r.code, stdout: r.stdout, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stdout: OK, stderr: "" });
    expect(r.leftovers).toEqual([]);
  });

  test.each([
    ["a shorter TTL than the script expects", (c: string) => c.replace("ttl: 60", "ttl: 30"), "FAIL: model-a is not ready"],
    ["no TTL at all", (c: string) => c.replace("ttl: 60", "ttl: 0"), "FAIL: model-a is still running"],
    ["a model that answers under another name", (c: string) => c.replace("--model fake-model-b", "--model other"), "FAIL: the reply for model-b came from elsewhere"],
  ])("fails, naming the check, with %s", async (_, edit, message) => {
    const r = await runCheck(FROM_SOURCE, exampleConfig(edit));
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
    expect(r.stderr).toContain(message);
    expect(r.leftovers).toEqual([]);
  });

  test("fails when modelswap cannot start", async () => {
    const r = await runCheck(FROM_SOURCE, `${tmp.path}/missing.yaml`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FAIL: modelswap did not start");
  });

  test("is what the README shows, word for word, with its config and workflow", () => {
    const readme = readFileSync(`${REPO_ROOT}/README.md`, "utf8");
    // The section itself, so a moved heading or a copy elsewhere in the README fails here instead of passing.
    const start = readme.indexOf("\n## Testing your application in CI\n");
    expect(start).toBeGreaterThan(-1);
    const next = readme.indexOf("\n## ", start + 1);
    const section = readme.slice(start, next < 0 ? undefined : next);
    for (const file of [SCRIPT, CONFIG, `${REPO_ROOT}/.github/workflows/example-app-ci.yml`]) {
      expect(section).toContain(readFileSync(file, "utf8"));
    }
  });
});

describe(".github/workflows", () => {
  type Workflow = { jobs: Record<string, { steps: Array<{ uses?: string; run?: string; env?: Record<string, string> }> }> };
  const steps = (file: string) => Object.values((parse(readFileSync(`${REPO_ROOT}/.github/workflows/${file}`, "utf8")) as Workflow).jobs).flatMap((j) => j.steps);

  test("ci.yml checks out, sets up Node, runs npm ci and npm test; its real-server job runs npm run test:real with the build cached", () => {
    const jobs = (parse(readFileSync(`${REPO_ROOT}/.github/workflows/ci.yml`, "utf8")) as Workflow).jobs;
    const names = (job: string) => jobs[job]!.steps.map((x) => x.uses ?? x.run);
    expect(names("test")).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "npm ci", "npm test"]);
    expect(names("real-server")).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "actions/cache@v4", "npm ci", "npm run test:real"]);
  });

  test("example-app-ci.yml builds modelswap and runs the example script with MODELSWAP set to the binary", () => {
    const s = steps("example-app-ci.yml");
    expect(s.map((x) => x.run).filter(Boolean)).toEqual(["npm ci && npm run build", "bash .modelswap/test/ci-example/check.sh"]);
    expect(s.at(-1)!.env).toEqual({ MODELSWAP: "${{ github.workspace }}/.modelswap/dist/modelswap" });
  });
});
