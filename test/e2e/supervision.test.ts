/**
 * Supervision with real processes (issue 9): one owner per state dir, the
 * predecessor sweep of what a SIGKILLed modelswap left (escaped setsid
 * grandchildren too), a port held by a foreign listener, a setsid
 * grandchild that must not outlive an unload.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/configs.ts";
import { cleanupProcesses, findPids, freePortRange, isGone, runModelswap, startModelswap, waitGone } from "../helpers/processes.ts";
import { poll } from "../../src/lib/async.ts";

const tmp = tempDir("modelswap-supervision-");
afterEach(cleanupProcesses);
afterAll(tmp.remove);

/** A config of fake-upstream models from `startPort`; `cmds` maps id → cmd (default: the plain fake upstream). */
function config(name: string, startPort: number, cmds: Record<string, string>): string {
  const lines = [`startPort: ${startPort}`, "healthCheckTimeout: 15", "models:"];
  for (const [id, cmd] of Object.entries(cmds)) lines.push(`  ${id}:`, `    cmd: ${cmd}`);
  return tmp.write(name, `${lines.join("\n")}\n`);
}
const fake = "${MODELSWAP} fake-upstream --port ${PORT}";
/** A wrapper that starts the fake upstream and a grandchild that leaves the group with setsid (`sleep TAG`). */
const escaping = (tag: string) => `sh -c '${fake} & setsid sleep ${tag} & wait'`;

/** The pid of the escaped `sleep TAG` itself (not the shell whose command line names it too). */
function sleeper(tag: string): Promise<number> {
  const find = () => findPids(`sleep ${tag}`).find((pid) => readFileSync(`/proc/${pid}/cmdline`, "latin1").startsWith("sleep\0"));
  return poll(find, 10, { signal: AbortSignal.timeout(5000) });
}

async function chat(url: string, model: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("one owner per state dir", () => {
  test("a second modelswap on the same state dir exits 1 with one line naming the owner's pid and the flag", async () => {
    const file = config("two.yaml", freePortRange(1), { a: fake });
    const dir = join(tmp.path, "shared-state");
    const first = await startModelswap(["--config", file, "--state-dir", dir]);
    const second = await runModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`modelswap: cannot use state dir ${dir}: modelswap pid ${first.pid} already runs with it; stop it or pass --state-dir DIR\n`);
    expect(isGone(first.pid)).toBe(false);
  });

  test("a state dir that is a symbolic link is refused with a clear error", async () => {
    const file = config("link.yaml", freePortRange(1), { a: fake });
    const real = join(tmp.path, "real-state");
    const link = join(tmp.path, "link-state");
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, link);
    const r = await runModelswap(["--config", file, "--listen", "127.0.0.1:0", "--state-dir", link]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`modelswap: Cannot use the state directory as it is a symbolic link: ${link}\n`);
  });
});

describe("the predecessor sweep", () => {
  test("what a SIGKILLed modelswap left (its model's group and an escaped setsid grandchild) is killed before any model starts", async () => {
    const port = freePortRange(1);
    const tag = `${port}.321`;
    const file = config("sweep.yaml", port, { a: escaping(tag) });
    const dir = join(tmp.path, "sweep-state");
    const first = await startModelswap(["--config", file, "--state-dir", dir]);
    expect((await chat(first.url, "a")).status).toBe(200);
    const escaped = await sleeper(tag);
    first.proc.kill("SIGKILL");
    await waitGone(first.pid);
    expect(isGone(escaped)).toBe(false); // the parent-death signal does not reach it
    const second = await startModelswap(["--config", file, "--state-dir", dir]);
    await second.waitForOutput(new RegExp(`took over the lock of modelswap pid ${first.pid}`));
    // The sweep ran before "listening": its line is in the log, what is left of the group (the wrapper died with its parent) and the escaped sleeper.
    const logs = await (await fetch(`${second.url}/logs`)).text();
    expect(logs).toMatch(/sweep: killed [2-9] leftover process\(es\) of an earlier run/);
    expect(isGone(escaped)).toBe(true);
    expect(findPids(`--port ${port} `)).toEqual([]);
  });
});

describe("nothing escapes a stop", () => {
  test("a grandchild that called setsid does not outlive an unload", async () => {
    const port = freePortRange(1);
    const tag = `${port}.654`;
    const ms = await startModelswap(["--config", config("unload.yaml", port, { a: escaping(tag) })]);
    expect((await chat(ms.url, "a")).status).toBe(200);
    const escaped = await sleeper(tag);
    const res = await fetch(`${ms.url}/api/models/unload/a`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(isGone(escaped)).toBe(true);
    expect(findPids(`--port ${port} `)).toEqual([]);
  });
});

describe("a model's port", () => {
  test("held by a foreign listener fails the start naming the port and the pid, instead of health-checking someone else's server", async () => {
    const port = freePortRange(1);
    const foreign = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("OK") });
    try {
      const ms = await startModelswap(["--config", config("port.yaml", port, { a: fake })]);
      const res = await chat(ms.url, "a");
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("start_failed");
      expect(body.error.message).toContain(`port ${port} is already in use by pid ${process.pid}`);
      expect(findPids(`--port ${port} `)).toEqual([]); // nothing was spawned
    } finally {
      foreign.stop(true);
    }
  });
});
