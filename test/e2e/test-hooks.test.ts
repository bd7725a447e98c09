/**
 * `--test-hooks` against real model processes: numbered events a script can
 * wait on exactly, fault drills (kill, failing health checks), and the guard
 * rails (no `/test/*` without the flag, no hooks on a public address).
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { SequencedEvent } from "../../src/observe/index.ts";
import { tempDir } from "../helpers/configs.ts";
import { cleanupProcesses, findPids, isGone, runModelswap, spawnModelswap } from "../helpers/processes.ts";
import { becomes, hooksConfig, startWithHooks } from "./test-hooks-harness.ts";

const tmp = tempDir("modelswap-hooks-");
afterEach(cleanupProcesses);
afterAll(tmp.remove);

const post = (body?: unknown): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe("events", () => {
  test("GET /test/events long-polls until 'model a became ready', and /running agrees at that moment", async () => {
    const { yaml } = hooksConfig({ a: { args: "--start-delay 100ms" } });
    const ms = await startWithHooks(tmp.write("events.yaml", yaml));
    const since = await ms.lastSeq();
    const reply = ms.chat("a");
    const ready = await ms.waitEvent(since, becomes("a", "ready"));
    expect(ready.event).toMatchObject({ kind: "modelState", model: "a", state: "ready", previous: "starting" });
    expect(await ms.running()).toMatchObject([{ model: "a", state: "ready" }]);
    expect((await reply).status).toBe(200);
  });

  test("sequence numbers increase by one across every event, in /test/events and in the SSE /api/events alike", async () => {
    const { yaml } = hooksConfig({ a: {}, b: {} });
    const ms = await startWithHooks(tmp.write("events-seq.yaml", yaml));
    const sse = await ms.fetch("/api/events?since=0");
    expect(sse.headers.get("Content-Type")).toContain("text/event-stream");
    expect((await ms.chat("a")).status).toBe(200);
    expect((await ms.chat("b")).status).toBe(200); // a swap: a stops, b starts
    expect((await ms.settle()).status).toBe(200);
    const polled = await ms.eventsSince(0);
    const seqs = polled.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    const last = polled.at(-1)!.seq;
    const streamed = await readSse(sse, last);
    expect(streamed).toEqual(polled);
    const states = polled.flatMap((e) => (e.event.kind === "modelState" ? [`${e.event.model}:${e.event.state}`] : []));
    expect(states).toEqual(["a:starting", "a:ready", "a:stopping", "a:stopped", "b:starting", "b:ready"]);
  });
});

describe("fault drills", () => {
  test("POST /test/models/a/kill SIGKILLs the process like a crash: failed, and the next request waits the 1 s delay", async () => {
    const { yaml, ports } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write("kill.yaml", yaml));
    expect((await ms.chat("a")).status).toBe(200);
    const [before] = findPids(`--port ${ports.a}`);
    const since = await ms.lastSeq();
    const res = await ms.fetch("/test/models/a/kill", post());
    expect(await res.json()).toEqual({ model: "a", killed: true });
    // The kill answers once the crash has been noticed: no waiting needed.
    expect(isGone(before!)).toBe(true);
    // /running shows it waiting out its restart delay, with the crash as its error.
    expect((await ms.running()).map((r) => [r.model, r.state])).toEqual([["a", "backoff"]]);
    const events = (await ms.eventsSince(since)).map((e) => e.event);
    expect(events).toContainEqual(expect.objectContaining({ kind: "modelState", model: "a", state: "failed", previous: "ready" }));
    const next = ms.chat("a");
    await ms.waitEvent(since, (e) => e.kind === "request" && e.model === "a" && e.action === "queued");
    await ms.advance(1100);
    expect((await next).status).toBe(200);
    const [after] = findPids(`--port ${ports.a}`);
    expect(after).toBeNumber();
    expect(after).not.toBe(before);
  });

  test("POST /test/models/a/health {fail:true} makes its next start fail the health check until turned off", async () => {
    const { yaml } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write("health.yaml", yaml));
    expect(await (await ms.fetch("/test/models/a/health", post({ fail: true }))).json()).toEqual({ model: "a", fail: true });
    const since = await ms.lastSeq();
    const reply = ms.chat("a");
    await ms.waitEvent(since, becomes("a", "starting"));
    expect(await ms.advance(15_000)).toEqual({ now: 15_000, settled: true });
    expect((await reply).status).toBe(504);
    await ms.fetch("/test/models/a/health", post({ fail: false }));
    // A missed health deadline counts like any failure: the next request waits out the restart delay.
    const next = ms.chat("a");
    await ms.waitEvent(since, (e) => e.kind === "request" && e.model === "a" && e.action === "queued");
    await ms.advance(1100);
    expect((await next).status).toBe(200);
  });

  test.each([
    ["kill", undefined],
    ["health", { fail: true }],
  ])("POST /test/models/nope/%s answers 404 for a model that is not configured", async (what, body) => {
    const { yaml } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write(`unknown-${what}.yaml`, yaml));
    const res = await ms.fetch(`/test/models/nope/${what}`, post(body));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });
});

describe("guard rails", () => {
  test("without --test-hooks no /test/* route exists", async () => {
    const { yaml } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write("no-hooks.yaml", yaml), []);
    const calls: Array<[string, RequestInit]> = [
      ["/test/clock", {}],
      ["/test/clock/advance", post({ ms: 1000 })],
      ["/test/settle", {}],
      ["/test/events?since=0", {}],
      ["/test/models/a/kill", post()],
      ["/test/models/a/health", post({ fail: true })],
    ];
    const statuses = await Promise.all(calls.map(async ([path, init]) => [path, (await ms.fetch(path, init)).status]));
    expect(statuses).toEqual(calls.map(([path]) => [path, 404]));
    expect(ms.proc.stdout()).not.toContain("test hooks enabled");
  });

  test.each([["0.0.0.0:0"], [":0"], ["[::]:0"]])("--test-hooks on %s is refused with exit 2", async (listen) => {
    const { yaml } = hooksConfig({ a: {} });
    const r = await runModelswap(["--config", tmp.write("refused.yaml", yaml), "--listen", listen, "--test-hooks"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing to enable --test-hooks on '${listen}'`);
  });

  test("--test-hooks-unsafe allows it on 0.0.0.0", async () => {
    const { yaml } = hooksConfig({ a: {} });
    const p = spawnModelswap(["--config", tmp.write("unsafe.yaml", yaml), "--listen", "0.0.0.0:0", "--test-hooks", "--test-hooks-unsafe"]);
    const [, port] = await p.waitForOutput(/listening on http:\/\/\S+:(\d+) \(test hooks enabled\)/);
    expect(await (await fetch(`http://127.0.0.1:${port}/test/clock`)).json()).toEqual({ now: 0 });
  });
});

/** Reads SSE frames from `res` up to the one with id `lastSeq`, and returns their data. */
async function readSse(res: Response, lastSeq: number): Promise<SequencedEvent[]> {
  const out: SequencedEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = res.body!.getReader();
  try {
    while ((out.at(-1)?.seq ?? 0) < lastSeq) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`SSE stream ended before seq ${lastSeq}: ${JSON.stringify(out)}`);
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        // Every frame is llama-swap's envelope plus modelswap's `seq`, `time` and `event`.
        const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (!data) continue;
        const m = JSON.parse(data) as Partial<SequencedEvent> & { type: string; data: string; seq: number; time: number };
        if (m.event === undefined) continue; // a snapshot (model states now), not a numbered event
        expect(frame).toStartWith(`id: ${m.seq}\nevent: message\n`);
        out.push({ seq: m.seq, time: m.time, event: m.event });
      }
    }
  } finally {
    await reader.cancel();
  }
  return out.filter((e) => e.seq <= lastSeq);
}
