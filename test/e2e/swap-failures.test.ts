/**
 * Failures through the real `modelswap serve` with the manual clock: crashes
 * mid-stream and while ready (the next request waits the restart delay),
 * start failures with the restart delays and the fast 503 after 5, health
 * timeouts, upstreams that ignore SIGTERM, and wrapper scripts that fork.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, fake, groupMembers, lastEventData, openStream, pgidOf, readChunks, startSwapServer, type SwapServer, waitGroupGone } from "./swap-harness.ts";

const tmp = tempDir("modelswap-swap-failures-");
let ms: SwapServer;
beforeAll(async () => {
  ms = await startSwapServer(tmp, {
    models: {
      crashy: "--exit-after-requests 2 --tokens 10 --token-interval 20ms",
      fragile: "",
      endless: "--tokens 100000 --token-interval 20ms",
      broken: { cmd: "sh -c 'echo cannot open model file; exit 3' --port ${PORT}" },
      unhealthy: "--health-fail",
      slow: "--start-delay 60s",
      stubborn: { args: "--ignore-sigterm", yaml: "unloadTimeout: 5" },
      wrapper: { cmd: `sh -c '${fake("")} & wait'`, yaml: "unloadTimeout: 5" },
      wrapstubborn: { cmd: `sh -c '${fake("--ignore-sigterm")} & wait'`, yaml: "unloadTimeout: 5" },
    },
  });
});
afterAll(() => finishSwapFile(ms, tmp));

/** The longest restart delay after `ms` with its jitter (±10 %). */
const jittered = (ms: number): number => Math.ceil(ms * 1.1);

/** Sends a chat for `model` that must wait out the restart delay: resolves once it is queued, with the pending response. */
async function queuedChat(model: string, since: number): Promise<{ response: Promise<Response> }> {
  const response = ms.chat(model);
  await ms.waitEvent((e) => e.kind === "request" && e.model === model && e.action === "queued", since);
  return { response }; // wrapped: an async function returning the promise itself would wait for it
}

describe("crashes", () => {
  test("a crash mid-stream ends the stream with an SSE error event; the next request waits the 1 s restart delay and is served", async () => {
    await ms.unload();
    const since = await ms.lastSeq();
    const first = await ms.chat("crashy");
    expect(first.status).toBe(200);
    await first.text();
    await ms.advance(60_000);
    const broken = await readChunks(await ms.chat("crashy", { stream: true }));
    expect(broken.error).toBeNull(); // no TCP reset
    expect(broken.text).not.toContain("[DONE]");
    expect(lastEventData(broken.text).error?.code).toBe("upstream_error");
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "crashy" && e.state === "failed", since);
    const pending = await queuedChat("crashy", since);
    await ms.advance(jittered(1000));
    const again = await pending.response;
    expect(again.status).toBe(200);
    await again.text();
    expect(await ms.transitions("crashy", "starting", since)).toBe(2);
  });

  test("a model killed once goes to failed (never stopped), its stream ends with an error event, and the next request restarts it", async () => {
    const stream = await openStream(await ms.chat("endless", { stream: true }));
    await ms.advance(60_000);
    const since = await ms.lastSeq();
    const pgid = await ms.group("endless");
    const kill = await fetch(`${ms.url}/test/models/endless/kill`, { method: "POST" });
    expect(kill.status).toBe(200);
    const { text, error } = await stream.rest;
    expect(error).toBeNull();
    expect(lastEventData(text).error?.code).toBe("upstream_error");
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "endless" && e.state === "failed", since);
    expect(groupMembers(pgid)).toEqual([]);
    const client = new AbortController();
    const pending = ms.chat("endless", { stream: true, signal: client.signal });
    await ms.waitEvent((e) => e.kind === "request" && e.model === "endless" && e.action === "queued", since);
    await ms.advance(jittered(1000));
    const next = await openStream(await pending);
    client.abort();
    await next.rest;
    expect(await ms.transitions("endless", "starting", since)).toBe(1);
  });

  test("a forking wrapper that dies takes its children with it, and the model goes to failed", async () => {
    const res = await ms.chat("wrapper");
    expect(res.status).toBe(200);
    await res.text();
    const pids = ms.pids("wrapper");
    expect(pids.length).toBe(2); // sh and the server it forked
    const pgid = pgidOf(pids[0]!)!;
    const since = await ms.lastSeq();
    // The wrapper itself is the group leader: kill only it, as a crash would.
    process.kill(pgid, "SIGKILL");
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "wrapper" && e.state === "failed", since);
    await waitGroupGone(pgid);
    expect(ms.pids("wrapper")).toEqual([]);
    await ms.unload("wrapper"); // forget the failure for the tests below
  });
});

describe("start failures", () => {
  test("a server that exits at start answers 502 with its output; the next request waits out the delay and tries again", async () => {
    const since = await ms.lastSeq();
    const res = await ms.chat("broken");
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("start_failed");
    expect(body.error.message).toContain("cannot open model file");
    const waiting = await queuedChat("broken", since);
    expect(await ms.transitions("broken", "starting", since)).toBe(1);
    await ms.advance(jittered(1000));
    const retried = await waiting.response;
    expect(retried.status).toBe(502);
    await retried.body?.cancel();
    expect(await ms.transitions("broken", "starting", since)).toBe(2);
  });

  test("after 5 failures in a row requests get 503 at once with Retry-After and the server's last output, until the delay is over", async () => {
    // Failures 3, 4 and 5 (after 2 s, 4 s and 8 s), each started by a request that waited for its delay.
    for (const wait of [2000, 4000, 8000]) {
      const since = await ms.lastSeq();
      const waiting = await queuedChat("broken", since);
      await ms.advance(jittered(wait));
      expect((await waiting.response).status).toBe(502);
    }
    const since = await ms.lastSeq();
    const refused = await ms.chat("broken");
    expect(refused.status).toBe(503);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(15); // 16 s ± 10 %
    expect(retryAfter).toBeLessThanOrEqual(18);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("backoff");
    expect(body.error.message).toContain("failed 5 times in a row");
    expect(body.error.message).toContain("cannot open model file");
    await ms.advance(jittered(16_000));
    const retried = await ms.chat("broken");
    expect(retried.status).toBe(502);
    await retried.body?.cancel();
    expect(await ms.transitions("broken", "starting", since)).toBe(1);
  });

  test("a server that dies while starting fails every waiter with 502 start_failed", async () => {
    const since = await ms.lastSeq();
    const waiters = [ms.chat("slow"), ms.chat("slow", { stream: true })];
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "slow" && e.queued === 2, since);
    const pgid = await ms.group("slow");
    expect((await fetch(`${ms.url}/test/models/slow/kill`, { method: "POST" })).status).toBe(200);
    for (const res of await Promise.all(waiters)) {
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("start_failed");
    }
    await waitGroupGone(pgid);
  });

  test("a model that never turns healthy answers 504 at healthCheckTimeout and its process group is stopped", async () => {
    const since = await ms.lastSeq();
    const pending = ms.chat("unhealthy");
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "unhealthy" && e.state === "starting", since);
    const pgid = await ms.group("unhealthy");
    await ms.advance(14_999);
    expect(groupMembers(pgid).length).toBeGreaterThan(0);
    await ms.advance(1);
    const res = await pending;
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("health_timeout");
    await waitGroupGone(pgid);
  });
});

describe("stopping what does not want to stop", () => {
  test.each([
    ["an upstream that ignores SIGTERM", "stubborn", true],
    ["a wrapper that forks (sh -c 'server & wait')", "wrapper", false],
    ["a forking wrapper whose child ignores SIGTERM", "wrapstubborn", true],
  ])("%s leaves nothing behind after unload", async (_, model, needsKill) => {
    const res = await ms.chat(model);
    expect(res.status).toBe(200);
    await res.text();
    const pgid = pgidOf(ms.pids(model)[0]!)!;
    expect(ms.pids(model).length).toBeGreaterThan(0);
    const since = await ms.lastSeq();
    const unload = fetch(`${ms.url}/api/models/unload/${model}`, { method: "POST" });
    if (needsKill) {
      await ms.waitEvent((e) => e.kind === "log" && e.model === model && e.line.includes("ignoring SIGTERM"), since);
      expect(groupMembers(pgid).length).toBeGreaterThan(0); // still there before unloadTimeout
      await ms.advance(5000);
    }
    expect((await unload).status).toBe(200);
    await waitGroupGone(pgid);
    expect(ms.pids(model)).toEqual([]);
  });

  test("a swap away from an upstream that ignores SIGTERM kills it at unloadTimeout (not healthCheckTimeout), then starts the target", async () => {
    const first = await ms.chat("stubborn");
    expect(first.status).toBe(200);
    await first.text();
    const pgid = pgidOf(ms.pids("stubborn")[0]!)!;
    const since = await ms.lastSeq();
    const swapped = ms.chat("wrapper");
    await ms.waitEvent((e) => e.kind === "log" && e.model === "stubborn" && e.line.includes("ignoring SIGTERM"), since);
    await ms.advance(4_999);
    expect(groupMembers(pgid).length).toBeGreaterThan(0);
    expect(await ms.transitions("wrapper", "starting", since)).toBe(0);
    await ms.advance(1);
    expect((await swapped).status).toBe(200);
    await waitGroupGone(pgid);
  });
});
