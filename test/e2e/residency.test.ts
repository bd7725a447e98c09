/**
 * Watchdog and residency rules through the real `modelswap serve` with
 * fake-upstream processes: maxSwapWait, the LRU count (maxLoaded), memory
 * fit (resources) and the out-of-memory retry.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { cleanupSwapServers, fake, openStream, startSwapServer, type SwapServer } from "./swap-harness.ts";
import { findPids } from "../helpers/processes.ts";
import type { SequencedEvent } from "../../src/observe/index.ts";

const tmp = tempDir("modelswap-residency-");
afterAll(async () => {
  await cleanupSwapServers();
  tmp.remove();
});

/** One sequential, non-streamed request; returns its status. */
async function ask(ms: SwapServer, model: string): Promise<number> {
  const res = await ms.chat(model);
  await res.text();
  return res.status;
}

/** Models with a process (starting, ready or stopping) after each state change, replayed from the event log. */
function residentOverTime(events: SequencedEvent[]): string[][] {
  const live = new Set<string>();
  const out: string[][] = [];
  for (const { event: e } of events) {
    if (e.kind !== "modelState") continue;
    if (e.state === "starting" || e.state === "ready" || e.state === "stopping") live.add(e.model);
    else live.delete(e.model);
    out.push([...live].sort());
  }
  return out;
}

describe("maxSwapWait", () => {
  test("one stuck request never takes a second model out of service", async () => {
    const ms = await startSwapServer(tmp, {
      models: { a: "--tokens 3 --token-interval 1h", b: "--tokens 1" },
      top: "routing:\n  scheduler:\n    settings:\n      fifo:\n        maxSwapWait: 30",
    });
    // a's stream sends its first token, then hangs.
    const ctrl = new AbortController();
    const stuck = await openStream(await ms.chat("a", { stream: true, signal: ctrl.signal }));
    expect(stuck.head).toContain('"content"');
    const since = await ms.lastSeq();
    const forB = ms.chat("b"); // would evict the busy a: waits
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "b" && e.queued === 1, since);
    const forA = ms.chat("a"); // a is reserved by b's swap: waits too
    await ms.waitEvent((e) => e.kind === "inflight" && e.model === "a" && e.queued === 1, since);
    await ms.advance(30_000);
    const b = await forB;
    expect(b.status).toBe(503);
    expect(b.headers.get("retry-after")).toBe("30");
    expect(((await b.json()) as { error: { message: string } }).error.message).toContain("maxSwapWait (30 s)");
    // The busy model kept serving: the queued request and a new one are answered.
    expect((await forA).status).toBe(200);
    expect(await ask(ms, "a")).toBe(200);
    expect(ms.pids("b")).toEqual([]);
    // Once the stuck request goes, b swaps in.
    ctrl.abort();
    expect(await ask(ms, "b")).toBe(200);
    await ms.shutdown();
  });
});

describe("maxLoaded", () => {
  test("never a third model loaded, and the evicted one is always the least recently used idle one", async () => {
    const ids = ["a", "b", "c", "d"];
    const ms = await startSwapServer(tmp, {
      models: Object.fromEntries(ids.map((id) => [id, "--tokens 1"])),
      top: "routing:\n  router:\n    settings:\n      maxLoaded: 2\n      groups:\n        all: { swap: false, exclusive: false, members: [a, b, c, d] }",
    });
    const stream = ["a", "b", "c", "a", "d", "b", "c", "c", "a", "d", "b", "a"];
    // Expected evictions from a plain LRU over the same sequence.
    const lru: string[] = [];
    const expected: string[] = [];
    for (const m of stream) {
      if (!lru.includes(m) && lru.length === 2) expected.push(lru.shift()!);
      lru.splice(lru.indexOf(m) >>> 0, lru.includes(m) ? 1 : 0);
      lru.push(m);
    }
    for (const m of stream) expect(await ask(ms, m)).toBe(200);
    await ms.settle();
    const events = await ms.events(0);
    for (const live of residentOverTime(events)) expect(live.length).toBeLessThanOrEqual(2);
    const evicted = events.filter((e) => e.event.kind === "modelState" && e.event.state === "stopping").map((e) => (e.event as { model: string }).model);
    expect(evicted).toEqual(expected);
    const running = (await (await fetch(`${ms.url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
    expect(running.running.filter((r) => r.state === "ready").map((r) => r.model).sort()).toEqual([...lru].sort());

    // Then waves of three concurrent requests over all four models: still never a third one loaded.
    const since = await ms.lastSeq();
    for (const wave of ["abc", "dcd", "bab", "cda", "ddb", "acb", "bdc", "aad"]) {
      expect(await Promise.all([...wave].map((m) => ask(ms, m)))).toEqual([200, 200, 200]);
    }
    await ms.settle();
    const mixed = await ms.events(since);
    expect(mixed.filter((e) => e.event.kind === "modelState" && e.event.state === "starting").length).toBeGreaterThan(2);
    for (const live of residentOverTime([...events, ...mixed])) expect(live.length).toBeLessThanOrEqual(2);
    await ms.shutdown();
  });
});

describe("resources", () => {
  test("packs what fits, evicts the least recently used idle model for what does not, refuses what never fits", async () => {
    const vram = { a: "10GiB", b: "10GiB", c: "12GiB", d: "30GiB" };
    const ms = await startSwapServer(tmp, {
      models: Object.fromEntries(Object.entries(vram).map(([id, v]) => [id, { args: "--tokens 1", yaml: `resources:\n  vram: ${v}` }])),
      top: "resources:\n  vram: 24GiB\ngroups:\n  all: { swap: false, exclusive: false, members: [a, b, c, d] }",
    });
    expect(await ask(ms, "a")).toBe(200);
    expect(await ask(ms, "b")).toBe(200);
    await ms.settle();
    expect([ms.pids("a").length, ms.pids("b").length]).toEqual([1, 1]); // 20 GiB: both fit
    expect(await ask(ms, "a")).toBe(200); // b is now the least recently used
    expect(await ask(ms, "c")).toBe(200); // 10 + 10 + 12 > 24: b goes
    await ms.settle();
    expect([ms.pids("a").length, ms.pids("b").length, ms.pids("c").length]).toEqual([1, 0, 1]);
    const d = await ms.chat("d");
    expect(d.status).toBe(503);
    expect(((await d.json()) as { error: { message: string } }).error.message).toBe("Cannot start model d as it needs 30 GiB of vram and resources.vram is 24 GiB");
    await ms.shutdown();
  });
});

describe("out-of-memory retry", () => {
  test("a start that fails with an out-of-memory message evicts one more idle model and succeeds on the retry", async () => {
    // Fails once with llama.cpp's out-of-memory line, then runs the fake upstream it is given.
    const script = tmp.write("oom-once.sh", `if [ -e "$0.done" ]; then exec "$@"; fi; touch "$0.done"
echo 'ggml_backend_cuda_buffer_type_alloc_buffer: allocating 9000.00 MiB on device 0: cudaMalloc failed: out of memory' >&2
exit 1
`);
    const ms = await startSwapServer(tmp, {
      models: { a: "--tokens 1", o: { cmd: `sh ${script} ${fake("--tokens 1")}` } },
      top: "groups:\n  all: { swap: false, exclusive: false, members: [a, o] }",
    });
    expect(await ask(ms, "a")).toBe(200);
    const since = await ms.lastSeq();
    const res = await ms.chat("o");
    const text = await res.text();
    expect([res.status, text]).toEqual([200, expect.any(String)]);
    const events = (await ms.events(since)).map((e) => e.event);
    expect(events).toContainEqual(expect.objectContaining({ kind: "modelState", model: "a", state: "stopping", detail: "oom_retry" }));
    expect(events.filter((e) => e.kind === "modelState" && e.model === "o" && e.state === "failed")).toEqual([]);
    await ms.settle();
    expect([ms.pids("a").length, ms.pids("o").length]).toEqual([0, 1]);
    await ms.shutdown();
  });
});

describe("replicas", () => {
  test("a burst starts both replicas on their own ports; one crashing leaves the other serving, and it restarts on its own port", async () => {
    const ms = await startSwapServer(tmp, {
      models: { m: { args: "--tokens 40 --token-interval 25ms", yaml: "replicas: 2\nenv: [\"SLOT_SEEN=${SLOT}\"]" } },
    });
    const running = async () =>
      ((await (await fetch(`${ms.url}/running`)).json()) as { running: Array<{ model: string; state: string; proxy: string; cmd: string }> }).running;
    const [s1, s2] = await Promise.all([ms.chat("m", { stream: true }), ms.chat("m", { stream: true })]);
    const both = await running();
    expect(both.map((r) => [r.model, r.state])).toEqual([["m@1", "ready"], ["m@2", "ready"]]);
    expect(new Set(both.map((r) => r.proxy)).size).toBe(2);
    const [p1, p2] = both.map((r) => Number(new URL(r.proxy).port)) as [number, number];
    expect(findLive(p1)).toHaveLength(1);
    expect(findLive(p2)).toHaveLength(1);
    await Promise.all([s1.text(), s2.text()]);

    const since = await ms.lastSeq();
    const kill = await fetch(`${ms.url}/test/models/m@2/kill`, { method: "POST" });
    expect(kill.status).toBe(200);
    // m@2 is no longer running; /running still lists it, as waiting out its restart backoff.
    expect((await running()).map((r) => [r.model, r.state])).toEqual([["m@1", "ready"], ["m@2", "backoff"]]);
    expect(await ask(ms, "m")).toBe(200); // m@1 serves
    await ms.advance(2000); // past m@2's restart backoff (it crashed within 60 s of turning ready)
    // Two at once: m@1 takes one, m@2 is started again (fewest in flight) on the same port.
    const again = await Promise.all([ms.chat("m", { stream: true }), ms.chat("m", { stream: true })]);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    await Promise.all(again.map((r) => r.text()));
    expect(await ms.transitions("m@2", "ready", since)).toBe(1);
    expect(await ms.transitions("m@1", "stopped", since)).toBe(0);
    expect((await running()).map((r) => [r.model, Number(new URL(r.proxy).port)])).toEqual([["m@1", p1], ["m@2", p2]]);
    expect(findLive(p2)).toHaveLength(1);
    await ms.shutdown();
    expect([...findLive(p1), ...findLive(p2)]).toEqual([]);
  });
});

/** Live pids of fake upstreams listening on `port`. */
function findLive(port: number): number[] {
  return findPids(`--port ${port} `);
}

describe("profiles", () => {
  test("activating a profile at runtime routes its pins to real processes; selecting none removes them", async () => {
    const ms = await startSwapServer(tmp, {
      models: { a: "--tokens 1", b: "--tokens 1" },
      top: "profiles:\n  night:\n    description: cheap\n    pins:\n      coder: b\n      a: ~",
    });
    const setActive = (name: string | null) => fetch(`${ms.url}/api/profiles/active`, { method: "PUT", body: JSON.stringify({ name }) });
    expect(await (await fetch(`${ms.url}/api/profiles`)).json()).toEqual({ active: null, profiles: [{ id: "night", description: "cheap", pins: { coder: "b", a: "" } }] });
    expect(await ask(ms, "coder")).toBe(404);
    expect(await ask(ms, "a")).toBe(200);
    expect(await (await setActive("night")).json()).toEqual({ active: "night" });
    const res = await ms.chat("coder");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe("b"); // the fake upstream answers with the model it was asked for
    await ms.settle();
    expect([ms.pids("a").length, ms.pids("b").length]).toEqual([0, 1]);
    expect(await ask(ms, "a")).toBe(404); // disabled by the pin
    expect((await setActive(null)).status).toBe(200);
    expect(await ask(ms, "coder")).toBe(404);
    expect(await ask(ms, "a")).toBe(200);
    await ms.shutdown();
  });
});

describe("selectors decided in the scheduler", () => {
  test("a burst through a spillover selector fills one target and starts the next, with loading state", async () => {
    const ms = await startSwapServer(tmp, {
      models: { a: { args: "--tokens 5 --token-interval 20ms", yaml: "sendLoadingState: true" }, b: { args: "--tokens 5 --token-interval 20ms", yaml: "sendLoadingState: true" } },
      top: "groups:\n  all: { swap: false, exclusive: false, members: [a, b] }\nselectors:\n  s:\n    strategy: spillover\n    targets: [a, b]\n    settings: { spillover: 1 }",
    });
    // Both arrive before either model is up: a main-thread pick from one status snapshot sent both to a.
    const texts = await Promise.all([ms.chat("s", { stream: true }), ms.chat("s", { stream: true })].map(async (r) => (await r).text()));
    for (const t of texts) {
      expect(t).toContain("reasoning_content"); // the loading lines
      expect(t.trim().endsWith("data: [DONE]")).toBe(true);
    }
    expect(await ms.transitions("a", "ready")).toBe(1);
    expect(await ms.transitions("b", "ready")).toBe(1);
    await ms.shutdown();
  });
});
