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
import { postChat } from "../helpers/chat.ts";
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
    expect((await postChat(first.url, "a")).status).toBe(200);
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
    expect((await postChat(ms.url, "a")).status).toBe(200);
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
      const res = await postChat(ms.url, "a");
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

describe("the scheduler Worker dies", () => {
  test("modelswap notices at once, kills every model server it recorded (escaped ones too) and exits 1 with the error", async () => {
    const port = freePortRange(1);
    const tag = `${port}.987`;
    const ms = await startModelswap(["--config", config("death.yaml", port, { a: escaping(tag) }), "--test-hooks"]);
    expect((await postChat(ms.url, "a")).status).toBe(200);
    const escaped = await sleeper(tag);
    expect((await fetch(`${ms.url}/test/scheduler/crash`, { method: "POST" })).status).toBe(200);
    expect(await ms.waitForExit()).toBe(1);
    expect(ms.stderr()).toContain("Scheduler crash drill");
    expect(ms.stderr()).toContain("killing every model server and exiting");
    await waitGone(escaped);
    expect(findPids(`--port ${port} `)).toEqual([]);
  });
});

describe("reload keeps what did not change", () => {
  test("SIGHUP reloads; a model added before another in sorted order gets a free port, and the other keeps its process and port", async () => {
    const port = freePortRange(2);
    const file = config("reload.yaml", port, { b: fake });
    const ms = await startModelswap(["--config", file]);
    expect((await postChat(ms.url, "b")).status).toBe(200);
    const [before] = findPids(`--port ${port} `);
    expect(before).toBeNumber();
    // llama-swap's order would now give `a` the first port and move `b`, restarting it.
    config("reload.yaml", port, { a: fake, b: fake });
    ms.proc.kill("SIGHUP");
    await ms.waitForOutput(/configuration reloaded from \S+: 2 models \(SIGHUP\)/);
    expect((await postChat(ms.url, "b")).status).toBe(200);
    expect(findPids(`--port ${port} `)).toEqual([before!]);
    expect((await postChat(ms.url, "a")).status).toBe(200);
    expect(findPids(`--port ${port + 1} `)).toHaveLength(1);
  });
});

describe("shutdown order", () => {
  test("at the first SIGTERM no swap starts: a queued request for another model gets 503 at once while the running stream finishes", async () => {
    const port = freePortRange(2);
    const ms = await startModelswap(["--config", config("order.yaml", port, { a: `${fake} --tokens 40 --token-interval 50ms`, b: fake }), "--test-hooks"]);
    const stream = await postChat(ms.url, "a", { stream: true });
    const reader = stream.body!.getReader();
    await reader.read(); // a is streaming
    const queued = postChat(ms.url, "b"); // would evict busy a: it waits
    await poll(async () => {
      const { events } = (await (await fetch(`${ms.url}/test/events?since=0&timeout=0ms`)).json()) as { events: Array<{ event: { kind: string; model?: string; action?: string } }> };
      return events.some((e) => e.event.kind === "request" && e.event.model === "b" && e.event.action === "queued") ? true : undefined;
    }, 10, { signal: AbortSignal.timeout(5000) });
    ms.proc.kill("SIGTERM");
    const refused = await queued;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).toContain("[DONE]"); // the running request finished within shutdownTimeout
    expect(await ms.waitForExit()).toBe(0);
    expect(findPids(`--port ${port + 1} `)).toEqual([]); // b was never started
  });
});

describe("the loading-state stream", () => {
  test("says 'Restarting a in N s' while a request waits out the restart delay, then streams the answer", async () => {
    const port = freePortRange(1);
    const file = tmp.write("loading.yaml", `startPort: ${port}\nsendLoadingState: true\nmodels:\n  a:\n    cmd: ${fake}\n`);
    const ms = await startModelswap(["--config", file, "--test-hooks"]);
    expect((await postChat(ms.url, "a")).status).toBe(200);
    expect((await fetch(`${ms.url}/test/models/a/kill`, { method: "POST" })).status).toBe(200);
    const res = await postChat(ms.url, "a", { stream: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    // 1 s ± 10 % jitter, rounded up like Retry-After: "1 s" or "2 s".
    while (!/Restarting a in [12] s/.test(text)) {
      const r = await reader.read();
      if (r.done) throw new Error(`Stream ended before the restart line: ${text}`);
      text += new TextDecoder().decode(r.value);
    }
    expect((await fetch(`${ms.url}/test/clock/advance?timeout=0ms`, { method: "POST", body: JSON.stringify({ ms: 1100 }) })).status).toBe(200);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).toContain("[DONE]");
  });
});

describe("restart: always", () => {
  test("a preloaded model that crashed starts again once the restart delay is over, with no request", async () => {
    const port = freePortRange(1);
    const file = tmp.write("always.yaml", `startPort: ${port}\nhooks:\n  on_startup:\n    preload: [a]\nmodels:\n  a:\n    cmd: ${fake}\n    restart: always\n`);
    const ms = await startModelswap(["--config", file, "--test-hooks"]);
    const running = () => findPids(`--port ${port} `);
    const first = await poll(() => running()[0], 10, { signal: AbortSignal.timeout(10_000) });
    await poll(async () => ((await (await fetch(`${ms.url}/running`)).text()).includes('"state":"ready"') ? true : undefined), 10, { signal: AbortSignal.timeout(10_000) });
    expect((await fetch(`${ms.url}/test/models/a/kill`, { method: "POST" })).status).toBe(200);
    expect(running()).toEqual([]);
    await fetch(`${ms.url}/test/clock/advance?timeout=0ms`, { method: "POST", body: JSON.stringify({ ms: 1100 }) });
    const second = await poll(() => running()[0], 10, { signal: AbortSignal.timeout(10_000) });
    expect(second).not.toBe(first);
  });
});

