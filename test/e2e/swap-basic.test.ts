/**
 * The swap engine through the real `modelswap serve`, with real fake-upstream
 * processes in llama-swap's default residency (one model at a time): swaps,
 * one spawn for many cold requests, streaming, waiting for busy models,
 * queue leaving, concurrency limit, unload, and disconnect propagation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { poll } from "../../src/lib/async.ts";
import { tempDir } from "../helpers/configs.ts";
import { BUN } from "../helpers/processes.ts";
import { finishSwapFile, groupMembers, lastEventData, openStream, pgidOf, readChunks, startSwapServer, type SwapServer, waitGroupGone } from "./swap-harness.ts";

const tmp = tempDir("modelswap-swap-basic-");
/** An upstream that logs when the request it is streaming is aborted, with the wall time. */
const probe = tmp.write(
  "probe.ts",
  `const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
Bun.serve({ hostname: "127.0.0.1", port, idleTimeout: 0, async fetch(req) {
  if (new URL(req.url).pathname === "/health") return new Response("ok");
  let logged = false;
  const gone = (how) => { if (!logged) { logged = true; console.log("probe: " + how + " at " + Date.now()); } };
  req.signal.addEventListener("abort", () => gone("aborted"));
  // A non-streamed request: "thinks" forever, sending no headers, until the client leaves.
  if ((await req.json()).stream !== true) { console.log("probe: holding"); return await new Promise(() => {}); }
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) { if (i > 0) await Bun.sleep(20); c.enqueue(new TextEncoder().encode('data: {"choices":[{"delta":{"content":"t' + i++ + '"}}]}\\n\\n')); },
    cancel() { gone("cancelled"); },
  }), { headers: { "content-type": "text/event-stream" } });
} });
console.log("probe listening on " + port);
`,
);

let ms: SwapServer;
beforeAll(async () => {
  ms = await startSwapServer(tmp, {
    models: {
      a: { args: "--tokens 3 --token-interval 0 --start-delay 200ms", yaml: "concurrencyLimit: 32" },
      b: "--tokens 3 --token-interval 0",
      paced: "--tokens 4 --token-interval 80ms",
      busy: "--tokens 25 --token-interval 20ms",
      lim: { args: "--tokens 100000 --token-interval 20ms", yaml: "concurrencyLimit: 2" },
      slow: "--start-delay 60s",
      probe: { cmd: `${BUN} ${probe} --port \${PORT}` },
      probeloading: { cmd: `${BUN} ${probe} --port \${PORT}`, yaml: "sendLoadingState: true" },
      queued: { args: "--tokens 1", yaml: "sendLoadingState: true" },
      ttl: { args: "--tokens 25 --token-interval 20ms", yaml: "ttl: 5" },
    },
  });
});
afterAll(() => finishSwapFile(ms, tmp));

const ok = async (res: Response) => {
  expect(res.status).toBe(200);
  await res.text();
};

describe("swapping", () => {
  test("a request for b stops a's whole process group before b starts", async () => {
    await ok(await ms.chat("a"));
    const [pid] = ms.pids("a");
    const pgid = pgidOf(pid!)!;
    expect(groupMembers(pgid).length).toBeGreaterThan(0);
    const since = await ms.lastSeq();
    await ok(await ms.chat("b"));
    expect(groupMembers(pgid)).toEqual([]);
    const events = await ms.events(since);
    const seqOf = (model: string, state: string) =>
      events.find((e) => e.event.kind === "modelState" && e.event.model === model && e.event.state === state)?.seq ?? -1;
    expect(seqOf("a", "stopped")).toBeGreaterThan(0);
    expect(seqOf("a", "stopped")).toBeLessThan(seqOf("b", "starting"));
  });

  test("20 concurrent cold requests start exactly one process", async () => {
    await ms.unload();
    const since = await ms.lastSeq();
    const responses = await Promise.all(Array.from({ length: 20 }, () => ms.chat("a")));
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as { model: string } })));
    expect(bodies.map((b) => b.status)).toEqual(Array(20).fill(200));
    expect(await ms.transitions("a", "starting", since)).toBe(1);
    expect(ms.pids("a")).toHaveLength(1);
  });

  test("a streamed response arrives token by token, in order, then [DONE]", async () => {
    const res = await ms.chat("paced", { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { chunks, text, error } = await readChunks(res);
    expect(error).toBeNull();
    const frames = text.split("\n\n").filter(Boolean).map((f) => f.replace(/^data: /, ""));
    expect(frames.at(-1)).toBe("[DONE]");
    const tokens = frames.filter((f) => f.includes('"content"')).map((f) => (JSON.parse(f) as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content);
    expect(tokens).toEqual(["Hello", " from", " the", " fake"]);
    // Not buffered: the four paced tokens came in four different reads.
    expect(chunks.filter((c) => c.includes('"content"')).length).toBe(4);
  });
});

describe("busy models and the queue", () => {
  test("a swap that would stop a model with a request in flight waits until it finishes", async () => {
    const stream = await openStream(await ms.chat("busy", { stream: true }));
    const since = await ms.lastSeq();
    const other = ms.chat("b");
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "b" && e.queued === 1, since);
    const { text, error } = await stream.rest;
    expect(error).toBeNull();
    expect(text).toContain("data: [DONE]");
    await ok(await other);
    const events = await ms.events(since);
    const released = events.find((e) => e.event.kind === "request" && e.event.model === "busy" && e.event.action === "released")!.seq;
    const stopping = events.find((e) => e.event.kind === "modelState" && e.event.model === "busy" && e.event.state === "stopping")!.seq;
    expect(released).toBeLessThan(stopping);
  });

  test("back-to-back requests for a model (each handing its lease to the next) do not hold off a swap away from it", async () => {
    await ok(await ms.chat("b"));
    const since = await ms.lastSeq();
    // Four clients keep b busy back to back, their released leases handed straight to the next request:
    // a swap away from b must still get its turn (the core stops the hand-overs once b is reserved).
    let stop = false;
    let served = 0;
    const client = async () => {
      while (!stop) {
        const res = await ms.chat("b");
        await res.text();
        if (res.status === 200) served++;
      }
    };
    const loops = Promise.all([client(), client(), client(), client()]);
    await poll(() => (served >= 40 ? true : undefined), 10, { signal: AbortSignal.timeout(30_000) });
    const other = await ms.chat("busy");
    stop = true;
    await ok(other);
    await loops;
    expect(await ms.transitions("b", "stopping", since)).toBe(1);
  });

  test.each([
    ["b", false],
    ["queued", true],
  ])("a queued client that disconnects leaves the queue, and its model is not started (%s, loading state %p)", async (model, loading) => {
    const stream = await openStream(await ms.chat("busy", { stream: true }));
    const since = await ms.lastSeq();
    const client = new AbortController();
    const gone = ms.chat(model, { signal: client.signal, stream: loading }).then(
      async (res) => {
        // With sendLoadingState the response has started: read it until the abort cuts it.
        expect(res.status).toBe(200);
        return await readChunks(res);
      },
      (e: unknown) => e,
    );
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === model && e.queued === 1, since);
    client.abort();
    await gone;
    await ms.waitEvent((e) => e.kind === "request" && e.model === model && e.action === "cancelled", since);
    expect((await stream.rest).text).toContain("data: [DONE]");
    await ms.settle();
    expect(await ms.transitions(model, "starting", since)).toBe(0);
    expect(await ms.transitions("busy", "stopping", since)).toBe(0);
    expect(ms.pids("busy")).toHaveLength(1);
  });

  test("above concurrencyLimit: 429, Retry-After and an OpenAI-style error", async () => {
    const clients = [new AbortController(), new AbortController()];
    const streams = await Promise.all(clients.map(async (c) => openStream(await ms.chat("lim", { stream: true, signal: c.signal }))));
    const res = await ms.chat("lim");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.code).toBe("too_many_requests");
    expect(body.error.message).toMatch(/^[A-Z]/);
    for (const c of clients) c.abort();
    await Promise.all(streams.map((s) => s.rest));
  });

  test.each([["one model", "slow"], ["all models", undefined]])("unload of %s releases every waiter with an error", async (_, target) => {
    const since = await ms.lastSeq();
    const waiters = Array.from({ length: 3 }, () => ms.chat("slow"));
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "slow" && e.queued === 3, since);
    const pid = await poll(() => ms.pids("slow")[0], 10, { signal: AbortSignal.timeout(10_000) });
    const pgid = pgidOf(pid)!;
    await ms.unload(target);
    for (const res of await Promise.all(waiters)) {
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unloaded");
    }
    await waitGroupGone(pgid);
    expect(ms.pids("slow")).toEqual([]);
  });
});

describe("unload and ttl", () => {
  test("unload of a model with a stream in flight stops it at once; the stream ends with an SSE error event", async () => {
    const stream = await openStream(await ms.chat("lim", { stream: true }));
    const pgid = pgidOf(ms.pids("lim")[0]!)!;
    await ms.unload("lim");
    const { text, error } = await stream.rest;
    expect(error).toBeNull();
    expect(text).not.toContain("[DONE]");
    expect(lastEventData(text).error?.type).toBe("server_error");
    await waitGroupGone(pgid);
  });

  test("ttl unloads an idle model on the clock, counted from its last request's end, never mid-request", async () => {
    const stream = await openStream(await ms.chat("ttl", { stream: true }));
    const since = await ms.lastSeq();
    await ms.advance(60_000);
    expect((await stream.rest).text).toContain("data: [DONE]");
    await ms.waitEvent((e) => e.kind === "request" && e.model === "ttl" && e.action === "released", since);
    expect(await ms.transitions("ttl", "stopping", since)).toBe(0);
    await ms.advance(4999);
    expect(await ms.transitions("ttl", "stopping", since)).toBe(0);
    const pgid = pgidOf(ms.pids("ttl")[0]!)!;
    await ms.advance(1);
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "ttl" && e.state === "stopped", since);
    await waitGroupGone(pgid);
  });
});

describe("client disconnect", () => {
  test.each([
    ["probe", "mid-stream"],
    ["probeloading", "mid-stream after a loading-state cold start"],
    ["probe", "before the upstream sent its headers"],
  ])("aborts the upstream request (%s, %s)", async (model, when) => {
    await ms.unload();
    const streamed = when !== "before the upstream sent its headers";
    const client = new AbortController();
    let since = await ms.lastSeq();
    let rest: Promise<unknown> = Promise.resolve();
    if (streamed) {
      const stream = await openStream(await ms.chat(model, { stream: true, signal: client.signal }));
      // The cold start of probeloading was shown as loading progress in the same stream.
      expect(stream.head.includes("modelswap loading model")).toBe(model === "probeloading");
      rest = stream.rest;
    } else {
      rest = ms.chat(model, { signal: client.signal }).catch(() => {});
      await ms.waitEvent((e) => e.kind === "log" && e.model === model && e.line === "probe: holding", since);
    }
    since = await ms.lastSeq();
    client.abort();
    await rest;
    // The upstream itself saw its request end (the event, not a timing: speed is measured in bench/).
    await ms.waitEvent((e) => e.kind === "log" && e.model === model && /^probe: (aborted|cancelled) at \d+/.test(e.line), since);
  });
});
