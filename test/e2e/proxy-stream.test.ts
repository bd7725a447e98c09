/**
 * The HTTP front against the real scheduler Worker and real fake-upstream
 * model processes: loading state, streaming, release on client abort, and
 * nothing left running afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, cleanupProcesses, freePort, isGone, MAIN_TS, spawnModelswap, type Spawned, waitForUrl } from "../helpers/processes.ts";
import { poll } from "../../src/lib/async.ts";

const marker = `e2e-proxy-${process.pid}-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), "modelswap-proxy-"));
let modelswap: Spawned;
let url = "";

/** Pids of model processes started for this file (their argv carries `marker`). */
function markedPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) pids.push(Number(name));
    } catch {
      // Gone while scanning.
    }
  }
  return pids.filter((pid) => !isGone(pid));
}

beforeAll(async () => {
  const fake = (extra: string) => `${BUN} ${MAIN_TS} fake-upstream --port \${PORT} --model ${marker} ${extra}`;
  writeFileSync(
    join(dir, "config.yaml"),
    [
      "healthCheckTimeout: 30",
      `startPort: ${freePort()}`,
      "models:",
      "  loading:",
      `    cmd: ${fake("--tokens 3 --token-interval 20ms --start-delay 300ms")}`,
      "    sendLoadingState: true",
      "    aliases: [gpt]",
      "  endless:",
      `    cmd: ${fake("--tokens 100000 --token-interval 20ms")}`,
      "    concurrencyLimit: 1",
      "",
    ].join("\n"),
  );
  const port = freePort();
  modelswap = spawnModelswap(["serve", "--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`, "--state-dir", join(dir, "state")]);
  url = `http://127.0.0.1:${port}`;
  await waitForUrl(`${url}/health`);
});

afterAll(async () => {
  await modelswap?.stop(15_000);
  // Every model process went with modelswap.
  await poll(() => (markedPids().length === 0 ? true : undefined), 20, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
  const left = markedPids();
  await cleanupProcesses();
  for (const pid of left) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

const chat = (model: string, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
    ...(signal ? { signal } : {}),
  });

describe("through the real scheduler", () => {
  test("a cold model streams loading progress, then the tokens, in one 200 response", async () => {
    const res = await chat("gpt");
    expect(res.status).toBe(200);
    const text = await res.text();
    const frames = text.split("\n\n").filter(Boolean).map((f) => f.replace(/^data: /, ""));
    expect(JSON.parse(frames[0] ?? "")).toEqual({ choices: [{ index: 0, delta: { reasoning_content: "━━━━━\n" } }] });
    expect(text).toContain("modelswap loading model: loading");
    expect(text).toContain("Done! (");
    expect(frames.at(-1)).toBe("[DONE]");
    const tokens = frames.filter((f) => f.includes('"content"')).map((f) => JSON.parse(f) as { echo?: { body: { model: string } }; choices: Array<{ delta: { content?: string } }> });
    expect(tokens.map((t) => t.choices[0]?.delta.content ?? "").join("")).toBe("Hello from the");
    // As in llama-swap, the upstream sees the name the client asked for.
    expect(tokens[0]?.echo?.body.model).toBe("gpt");
    const running = (await (await fetch(`${url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
    expect(running.running).toContainEqual(expect.objectContaining({ model: "loading", state: "ready" }));
  });

  test("a client that leaves mid-stream releases its slot (concurrencyLimit 1 admits the next one)", async () => {
    for (let i = 0; i < 3; i++) {
      const client = new AbortController();
      const res = await chat("endless", client.signal);
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let seen = "";
      while (!seen.includes('"content"')) {
        const r = await reader.read();
        if (r.done) throw new Error(`Stream ended early: ${seen}`);
        seen += new TextDecoder().decode(r.value);
      }
      client.abort();
      await reader.cancel().catch(() => {});
    }
    const status = await poll(
      async () => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "endless", max_tokens: 1, messages: [] }),
          signal: AbortSignal.timeout(200),
        }).catch(() => null);
        await res?.body?.cancel().catch(() => {});
        return res && res.status !== 429 ? res.status : undefined;
      },
      20,
      { signal: AbortSignal.timeout(5000) },
    );
    expect(status).toBe(200);
  });
});
