/**
 * The single-file build: `bun scripts/build.ts` produces dist/modelswap,
 * which must work with no source tree around it (run from a temp directory).
 * Set MODELSWAP_BINARY to test a prebuilt binary instead of building one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { deserialize, serialize } from "bun:jsc";
import { BAD_CONFIG, fakeModelConfig, GOOD_CONFIG, tempDir } from "../helpers/configs.ts";
import { postChat } from "../helpers/chat.ts";
import {
  BINARY,
  BUN,
  cleanupProcesses,
  findPids,
  freePort,
  REPO_ROOT,
  runModelswap,
  spawnModelswap,
  spawnProcess,
  startFakeUpstreamProcess,
  waitGone,
} from "../helpers/processes.ts";

const tmp = tempDir("modelswap-binary-");
/** Run the binary from a directory with no source, bunfig or .env in it. */
const cwd = tmp.path;

beforeAll(async () => {
  if (process.env.MODELSWAP_BINARY) return; // testing a prebuilt binary
  const build = spawnProcess([BUN, `${REPO_ROOT}/scripts/build.ts`]);
  const code = await build.waitForExit(120_000);
  if (code !== 0) throw new Error(`Build failed with status ${code}:\n${build.stdout()}\n${build.stderr()}`);
}, 120_000);
afterEach(cleanupProcesses);
afterAll(tmp.remove);

const run = (args: string[]) => runModelswap(args, { binary: BINARY, cwd });

describe("dist/modelswap", () => {
  test("--version names modelswap, bun and the platform", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^modelswap \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+, linux-\w+\)\n$/);
  });

  test("validate accepts a good file and reports a bad one", async () => {
    const good = tmp.write("good.yaml", GOOD_CONFIG);
    const ok = await run(["validate", "--config", good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${good}: OK, 2 models, 1 group, 0 peers\n`);
    const bad = tmp.write("bad.yaml", BAD_CONFIG);
    const ko = await run(["validate", "--config", bad]);
    expect(ko.code).toBe(1);
    expect(ko.stderr).toMatch(/bad\.yaml:4:\d+: models\.a\.ttl: /);
  });

  test("serve loads its config in a child that is the binary itself (__load-config); a bad file is reported as validate does", async () => {
    const good = tmp.write("child-good.yaml", GOOD_CONFIG);
    const child = Bun.spawn([BINARY, "__load-config"], {
      cwd,
      stdin: new Uint8Array(serialize({ target: { file: good, dir: null }, selfCommand: [BINARY], env: {} })),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, code] = await Promise.all([new Response(child.stdout).arrayBuffer(), child.exited]);
    expect(code).toBe(0);
    const reply = deserialize(out) as { ok: boolean; config?: { models: Record<string, unknown> } };
    expect(reply.ok && Object.keys(reply.config!.models)).toEqual(["a", "b"]);
    const bad = tmp.write("serve-bad.yaml", BAD_CONFIG);
    const served = await run(["--config", bad, "--listen", "127.0.0.1:0", "--state-dir", join(cwd, "bad-state")]);
    expect(served.code).toBe(1);
    expect(served.stderr).toMatch(/serve-bad\.yaml:4:\d+: models\.a\.ttl: /);
    expect(served.stderr).toBe((await run(["validate", "--config", bad])).stderr);
  });

  test("fake-upstream answers a plain and a streamed chat completion", async () => {
    const up = await startFakeUpstreamProcess(["--tokens", "3", "--token-interval", "0"], { binary: BINARY, cwd });
    const ask = (stream: boolean) => postChat(up.url, "x", { stream });
    const plain = (await (await ask(false)).json()) as any;
    expect(plain.choices[0].message.content).toBe("Hello from the");
    const streamed = await (await ask(true)).text();
    expect(streamed.split("\n\n").filter(Boolean)).toHaveLength(5); // 3 tokens, finish, [DONE]
    expect(streamed.trimEnd().endsWith("data: [DONE]")).toBe(true);
    await up.stop();
  });

  test("serve runs ${MODELSWAP} models with the binary itself (selfCommand, scheduler Worker inside the binary)", async () => {
    const startPort = freePort();
    const file = tmp.write("serve.yaml", fakeModelConfig(startPort));
    const p = spawnModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", join(cwd, "state")], { binary: BINARY, cwd });
    const url = (await p.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    const res = await postChat(url, "m");
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).choices[0].message.content).toBe("Hello from the");
    const needle = `fake-upstream --port ${startPort} `;
    const [modelPid] = findPids(needle);
    expect(modelPid).toBeDefined();
    const cmdline = await Bun.file(`/proc/${modelPid}/cmdline`).text();
    expect(cmdline.split("\0")[0]).toBe(BINARY);
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
    await waitGone(modelPid!);
  });
  test("serves the web UI bundled into the executable (no source tree, no network)", async () => {
    const p = spawnModelswap(["--config", tmp.write("ui.yaml", fakeModelConfig(freePort())), "--listen", "127.0.0.1:0", "--state-dir", join(cwd, "state-ui")], { binary: BINARY, cwd });
    const url = (await p.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    const page = await fetch(`${url}/`);
    expect(page.url).toBe(`${url}/ui/`);
    expect(await page.text()).toContain('src="/ui/app.js"');
    const js = await fetch(`${url}/ui/app.js`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(`${url}/ui/app.css`)).status).toBe(200);
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
  });

  test("with no config.yaml and no --config, serve uses the built-in demo config", async () => {
    const empty = join(cwd, "empty");
    await Bun.write(join(empty, ".keep"), "");
    const p = spawnModelswap(["--listen", "127.0.0.1:0", "--state-dir", join(cwd, "state-demo")], { binary: BINARY, cwd: empty });
    const url = (await p.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    expect(p.stdout() + p.stderr()).toContain("serving the built-in demo models");
    const listed = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((m) => m.id)).toEqual(["chat-large", "chat-small", "embed"]);
    const res = await fetch(`${url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "hi" }),
    });
    expect(res.status).toBe(200);
    const [modelPid] = findPids("fake-upstream --port 5802 --model embed");
    expect(modelPid).toBeDefined();
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
    await waitGone(modelPid!);
  });
});
