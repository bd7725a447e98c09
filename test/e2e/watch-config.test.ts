/**
 * `--watch-config`: a changed file is loaded and served without a restart; a
 * broken one is reported and the running configuration stays in force.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { poll } from "../../src/lib/async.ts";
import { tempDir } from "../helpers/configs.ts";
import { postChat } from "../helpers/chat.ts";
import { cleanupProcesses, findPids, freePortRange, spawnModelswap, type Spawned, waitGone } from "../helpers/processes.ts";

const dir = tempDir("modelswap-watch-");
const startPort = freePortRange(4);
const marker = `watch-${process.pid}`;

function configText(models: Record<string, string>): string {
  const lines = [`startPort: ${startPort}`, "healthCheckTimeout: 15", "models:"];
  for (const [id, extra] of Object.entries(models)) {
    lines.push(`  ${id}:`, `    cmd: \${MODELSWAP} fake-upstream --port \${PORT} --model ${marker}-${id} ${extra}`);
  }
  return lines.join("\n") + "\n";
}

async function modelIds(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
  return body.data.map((m) => m.id);
}

describe("modelswap --watch-config", () => {
  let proc: Spawned;
  let url: string;
  let file: string;

  /** How often the output says `re` so far. */
  const count = (re: RegExp): number => (proc.stdout() + proc.stderr()).match(new RegExp(re.source, "g"))?.length ?? 0;
  /** Writes the config and waits until modelswap reports one more line matching `re`. */
  async function rewrite(text: string, re: RegExp): Promise<void> {
    const before = count(re);
    dir.write("config.yaml", text);
    await poll(() => (count(re) > before ? true : undefined), 20, { signal: AbortSignal.timeout(10_000) });
  }
  const RELOADED = /configuration reloaded from \S+: \d+ models/;

  beforeAll(async () => {
    file = dir.write("config.yaml", configText({ alpha: "--tokens 2" }));
    proc = spawnModelswap(["--config", file, "--listen", "127.0.0.1:0", "--watch-config"]);
    url = (await proc.waitForOutput(/listening on (http:\/\/\S+?),? /, 20_000))[1]!;
  });

  afterEach(() => expect(proc.proc.exitCode).toBeNull());

  afterAll(async () => {
    await proc.stop();
    await cleanupProcesses();
    for (const pid of findPids(marker)) await waitGone(pid);
    expect(findPids(marker)).toEqual([]);
    dir.remove();
  });

  test("a model added to the file is listed and served without a restart", async () => {
    expect(await modelIds(url)).toEqual(["alpha"]);
    await rewrite(configText({ alpha: "--tokens 2", beta: "--tokens 2" }), RELOADED);
    expect(await modelIds(url)).toEqual(["alpha", "beta"]);
    const res = await postChat(url, "beta");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe(`${marker}-beta`);
  });

  test("a model whose command changed is restarted with the new command", async () => {
    expect((await postChat(url, "alpha")).status).toBe(200);
    const [oldPid] = findPids(`${marker}-alpha`);
    expect(oldPid).toBeNumber();
    await rewrite(configText({ alpha: "--tokens 5", beta: "--tokens 2" }), RELOADED);
    await waitGone(oldPid!);
    const res = await postChat(url, "alpha");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(5);
  });

  test("a broken file is reported with its position and the previous configuration keeps serving", async () => {
    await rewrite(`${configText({ alpha: "--tokens 5" })}    ttl: soon\n`, /changed but has errors: still serving the previous one/);
    expect(proc.stderr()).toMatch(/config\.yaml:\d+:\d+: models\.alpha\.ttl: Expected an integer >= -1: got "soon"/);
    expect(await modelIds(url)).toEqual(["alpha", "beta"]);
    expect((await postChat(url, "beta")).status).toBe(200);
  });

  test("removing a model stops its process and its name is no longer known", async () => {
    expect((await postChat(url, "beta")).status).toBe(200);
    const [betaPid] = findPids(`${marker}-beta`);
    await rewrite(configText({ alpha: "--tokens 5" }), RELOADED);
    expect(await modelIds(url)).toEqual(["alpha"]);
    if (betaPid !== undefined) await waitGone(betaPid);
    expect((await postChat(url, "beta")).status).toBe(404);
  });
});
