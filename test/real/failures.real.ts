/**
 * llama-server dying under modelswap, and modelswap shutting down around a
 * live llama-server: kill -9 mid-stream and mid-request (the client sees the
 * real cause; the POST reached the server once, counted by a TCP relay in
 * front of llama-server), and a SIGTERM drain that lets an open stream finish.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { poll } from "../../src/lib/async.ts";
import { tempDir } from "../helpers/configs.ts";
import { findPids, freePort, waitGone } from "../helpers/processes.ts";
import { finishSwapFile, lastEventData, openStream, type SwapServer, startSwapServer } from "../e2e/swap-harness.ts";
import { chatBody, llamaArgs, llamaCmd, postJson, type RealEnv, realEnv, report, sseContent } from "./harness.ts";
import { type Relay, startRelay } from "./relay.ts";

const tmp = tempDir("modelswap-real-failures-");
let env: RealEnv;
let ms: SwapServer;
let relay: Relay;
let relayedPort = 0;

// A long generation (seconds): the `long` model has 2048 tokens of context.
const LONG = { ctx: 2048 };
const longChat = (model: string, stream: boolean) => chatBody(model, { stream, maxTokens: 2000 });

beforeAll(async () => {
  env = await realEnv();
  relayedPort = freePort();
  relay = startRelay(relayedPort);
  const relayed = [env.llamaServer, "--port", String(relayedPort), ...llamaArgs(env, "long", { ...LONG, alias: "relayed" })].join(" ");
  ms = await startSwapServer(tmp, {
    hooks: false,
    top: "groups:\n  all:\n    swap: false\n    members: [long, direct, relayed]",
    models: {
      long: { cmd: llamaCmd(env, "long", LONG) },
      direct: { cmd: llamaCmd(env, "long", { ...LONG, alias: "direct" }) },
      relayed: { cmd: relayed, yaml: `proxy: http://127.0.0.1:${relay.port}` },
    },
  });
});
afterAll(async () => {
  relay?.stop();
  await finishSwapFile(ms, tmp);
});

/** The one live llama-server of `model` (found by its port on the command line). */
async function llamaPid(port: number): Promise<number> {
  return poll(() => {
    const pids = findPids(`--port ${port} `).filter((pid) => findPids("llama-server").includes(pid));
    return pids.length === 1 ? pids[0] : undefined;
  }, 10, { signal: AbortSignal.timeout(10_000) });
}

/** Resolves once the llama-server on `port` is working on a request: proof that it has read it. */
async function busy(port: number): Promise<void> {
  await poll(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/slots`).catch(() => null);
    const slots = res?.status === 200 ? ((await res.json()) as Array<{ is_processing: boolean }>) : [];
    return slots[0]?.is_processing ? true : undefined;
  }, 5, { signal: AbortSignal.timeout(15_000) });
}

describe("kill -9 of llama-server", () => {
  test("mid-stream: the stream ends with an SSE error event naming the broken upstream stream; after the restart backoff (503 + Retry-After until then) it starts again", async () => {
    const stream = await openStream(await postJson(`${ms.url}/v1/chat/completions`, longChat("long", true)));
    const pid = await llamaPid(ms.port("long"));
    process.kill(pid, "SIGKILL");
    const { text, error } = await stream.rest;
    expect(error).toBeNull(); // an SSE event, not a TCP reset
    expect(text).not.toContain("[DONE]");
    const last = lastEventData(text).error;
    expect(last?.code).toBe("upstream_error");
    expect(last?.message).toContain("Cannot finish response: the upstream stream failed");
    report("kill -9 mid-stream, the client's last event", last);
    await waitGone(pid);
    // A dead process is not yet a crash modelswap has seen (its scheduler reaps the exit in its own time, and a
    // request granted before that reaches a closed port: 502): wait until it no longer lists the model as ready.
    await poll(async () => {
      const { running } = (await (await fetch(`${ms.url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
      return running.some((r) => r.model === "long" && r.state === "ready") ? undefined : true;
    }, 10, { signal: AbortSignal.timeout(15_000) });
    // It died soon after it started: requests get 503 with Retry-After until the restart backoff has passed, then it starts again.
    const statuses: number[] = [];
    await poll(async () => {
      const again = await postJson(`${ms.url}/v1/chat/completions`, chatBody("long", { maxTokens: 2 }));
      statuses.push(again.status);
      if (again.status === 503) expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
      if (again.status !== 503 && again.status !== 200) throw new Error(`Cannot restart long: status ${again.status} after ${JSON.stringify(statuses)}: ${await again.text()}`);
      await again.body?.cancel();
      return again.status === 503 ? undefined : again.status;
    }, 100, { signal: AbortSignal.timeout(30_000) });
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(0, -1).every((s) => s === 503)).toBe(true);
  });

  test("mid-request: 502 naming the real cause (the server closed the connection), not a refused retry", async () => {
    const pending = postJson(`${ms.url}/v1/chat/completions`, longChat("direct", false));
    await busy(ms.port("direct"));
    const pid = await llamaPid(ms.port("direct"));
    process.kill(pid, "SIGKILL");
    const res = await pending;
    const body = (await res.json()) as { error: { code: string; message: string } };
    report("kill -9 mid-request, the client's answer", { status: res.status, ...body.error });
    expect(res.status).toBe(502);
    expect(body.error.code).toBe("upstream_error");
    expect(body.error.message).not.toMatch(/ECONNREFUSED|refused|Unable to connect/i);
    await waitGone(pid);
  });

  test("mid-request: the POST reached llama-server once (no retry after the server read it), counted by a relay", async () => {
    const before = relay.requests("POST /v1/chat/completions");
    const pending = postJson(`${ms.url}/v1/chat/completions`, longChat("relayed", false));
    await busy(relayedPort);
    const pid = await llamaPid(relayedPort);
    process.kill(pid, "SIGKILL");
    const res = await pending;
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(502);
    expect(body.error.code).toBe("upstream_error");
    expect(relay.requests("POST /v1/chat/completions") - before).toBe(1);
    await waitGone(pid);
  });
});

describe("SIGTERM to modelswap", () => {
  test("drain: an open llama-server stream finishes with [DONE], new connections are refused, exit 0, llama-server gone", async () => {
    const own = await startSwapServer(tmp, {
      hooks: false,
      top: "shutdownTimeout: 60",
      models: { alpha: { cmd: llamaCmd(env, "long", { ...LONG, alias: "alpha" }) } },
    });
    const warm = await postJson(`${own.url}/v1/chat/completions`, chatBody("alpha", { maxTokens: 1 }));
    expect(warm.status).toBe(200);
    await warm.body?.cancel();
    const pid = await llamaPid(own.port("alpha"));
    const stream = await openStream(await postJson(`${own.url}/v1/chat/completions`, longChat("alpha", true)));
    let ended = false;
    void stream.rest.then(() => (ended = true));
    // Frozen mid-stream (2000 tokens take seconds), llama-server cannot finish before the drain has begun, however slow the machine.
    process.kill(pid, "SIGSTOP");
    own.proc.proc.kill("SIGTERM");
    await own.proc.waitForOutput(/draining/);
    expect(await fetch(`${own.url}/health`).then(() => "answered", () => "refused")).toBe("refused");
    expect(ended).toBe(false);
    process.kill(pid, "SIGCONT");
    const { text, error } = await stream.rest;
    expect(error).toBeNull();
    const { done } = sseContent(text);
    expect(done).toBe(true);
    expect(await own.proc.waitForExit(30_000)).toBe(0);
    await waitGone(pid);
    expect(own.allModelPids()).toEqual([]);
  });
});
