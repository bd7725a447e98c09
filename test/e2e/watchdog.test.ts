/**
 * The watchdog through the real `modelswap serve` with fake-upstream
 * processes: stallTimeout ends one hung request (SSE error event, or 504),
 * frees its slot so a waiting swap goes on; busyTimeout stops a hung model
 * and never cuts a healthy long generation.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { BUN, REPO_ROOT } from "../helpers/processes.ts";
import { cleanupSwapServers, lastEventData, openStream, startSwapServer } from "./swap-harness.ts";

const tmp = tempDir("modelswap-watchdog-");
afterAll(async () => {
  await cleanupSwapServers();
  tmp.remove();
});

const HUNG_STREAM = "--tokens 3 --token-interval 1h";
const SILENT = { cmd: `${BUN} ${REPO_ROOT}/test/fixtures/silent-server.ts --port \${PORT} --quiet` };

describe("stallTimeout", () => {
  test("a stream that stops mid-way ends with an SSE error event, and a swap waiting on it goes on", async () => {
    const ms = await startSwapServer(tmp, {
      models: { a: HUNG_STREAM, b: "--tokens 1" },
      top: "watchdog:\n  stallTimeout: 1\nrouting:\n  scheduler:\n    settings:\n      fifo:\n        maxSwapWait: 60",
    });
    const stuck = await openStream(await ms.chat("a", { stream: true }));
    const since = await ms.lastSeq();
    const forB = ms.chat("b"); // waits for a (busy); maxSwapWait runs on the manual clock, which never moves here
    const { text, error } = await stuck.rest;
    expect(error).toBeNull();
    expect(lastEventData(text).error).toMatchObject({ code: "upstream_stalled", message: "Cannot finish request: upstream stalled for 1 s" });
    // The stalled request released a: b swapped in with no clock moved.
    const b = await forB;
    expect(b.status).toBe(200);
    await b.text();
    expect(await ms.transitions("b", "ready", since)).toBe(1);
    await ms.shutdown();
  });

  test("behind sendLoadingState too: the relayed stream that goes silent ends with the stall error", async () => {
    const ms = await startSwapServer(tmp, { models: { a: { args: HUNG_STREAM, yaml: "sendLoadingState: true" } }, top: "watchdog:\n  stallTimeout: 1" });
    const res = await ms.chat("a", { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("reasoning_content"); // the loading lines came first
    expect(lastEventData(text).error).toMatchObject({ code: "upstream_stalled" });
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "a" && e.inFlight === 0 && e.queued === 0);
    await ms.shutdown();
  });

  test("an upstream that never answers gets 504, and the model keeps its slot count right", async () => {
    const ms = await startSwapServer(tmp, { models: { s: SILENT }, top: "watchdog:\n  stallTimeout: 1" });
    const [r1, r2] = await Promise.all([ms.chat("s"), ms.chat("s", { stream: true })]);
    for (const r of [r1, r2]) {
      expect(r.status).toBe(504);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("upstream_stalled");
    }
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "s" && e.inFlight === 0 && e.queued === 0);
    await ms.shutdown();
  });

  test("a per-model stallTimeout overrides the global one (0 turns it off)", async () => {
    const ms = await startSwapServer(tmp, {
      models: { s: { ...SILENT, yaml: "watchdog:\n  stallTimeout: 1" }, t: { ...SILENT, yaml: "watchdog:\n  stallTimeout: 0" } },
      top: "watchdog:\n  stallTimeout: 3600",
    });
    expect((await ms.chat("s")).status).toBe(504);
    const ctrl = new AbortController();
    const pending = ms.chat("t", { signal: ctrl.signal }).catch((e: unknown) => e);
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "t" && e.inFlight === 1);
    ctrl.abort();
    expect(await pending).toBeInstanceOf(Error);
    await ms.shutdown();
  });

});

describe("busyTimeout", () => {
  test("a model busy with no byte to any client for busyTimeout is stopped and restarted through the restart policy", async () => {
    const ms = await startSwapServer(tmp, { models: { a: HUNG_STREAM }, top: "watchdog:\n  busyTimeout: 5" });
    const stuck = await openStream(await ms.chat("a", { stream: true }));
    const since = await ms.lastSeq();
    await ms.advance(4999);
    expect(await ms.transitions("a", "stopping", since)).toBe(0);
    await ms.advance(1);
    const stopping = await ms.waitEvent((e) => e.kind === "modelState" && e.model === "a" && e.state === "stopping", since);
    expect(stopping.event).toMatchObject({ detail: "watchdog" });
    const { text } = await stuck.rest;
    expect(lastEventData(text).error?.code).toBe("upstream_error");
    await ms.settle();
    // Handled like a crash (the restart policy): the next request waits out the restart delay.
    const since2 = await ms.lastSeq();
    const pending = ms.chat("a");
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "a" && e.queued === 1, since2);
    expect(await ms.transitions("a", "failed", since)).toBe(1);
    await ms.advance(2000);
    const again = await pending;
    expect(again.status).toBe(200);
    await again.text();
    await ms.shutdown();
  });

  test("a long generation that keeps sending is never cut (real clock)", async () => {
    // 80 tokens 50 ms apart: 4 s of output, with busyTimeout 3 s; activity reaches the scheduler every second.
    const ms = await startSwapServer(tmp, { models: { a: "--tokens 80 --token-interval 50ms" }, top: "watchdog:\n  busyTimeout: 3", hooks: false });
    const res = await ms.chat("a", { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    expect(text).not.toContain('"error"');
    await ms.shutdown();
  });
});
