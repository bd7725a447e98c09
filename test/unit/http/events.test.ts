import { describe, expect, test } from "bun:test";
import type { EventHub, SequencedEvent } from "../../../src/observe/index.ts";
import { createEventHub } from "../../../src/observe/event-hub.ts";
import { createLogHub } from "../../../src/observe/log-hub.ts";
import { connectHubs } from "../../../src/observe/connect.ts";
import { EventView } from "../../../src/http/stream/event-frames.ts";
import { eventFrame } from "../../../src/http/routes/events.ts";
import { VERSION } from "../../../src/lib/version.ts";
import type { ModelState } from "../../../src/scheduler/protocol.ts";
import { peerConfig } from "../../helpers/config-fixture.ts";
import { MAX_QUEUED_BYTES } from "../../../src/http/stream/push-stream.ts";
import { deadline } from "../../../src/lib/async.ts";
import { type LiveDeps, serve, testDeps } from "./helpers.ts";

const clock = (now: number) => ({ kind: "clock", now }) as const;

/** What `res.body.getReader()` gives, structurally (bun-types and lib.dom disagree). */
type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }> };

/** Reads a streaming body until `done(text)` holds or the stream ends; fails after 5 s. */
async function readUntil(reader: Reader, done: (text: string) => boolean, seen = { text: "" }): Promise<{ text: string; ended: boolean }> {
  const decoder = new TextDecoder();
  while (!done(seen.text)) {
    const { value, done: ended } = await deadline(reader.read(), 5000);
    if (ended) return { text: seen.text, ended: true };
    seen.text += decoder.decode(value, { stream: true });
  }
  return { text: seen.text, ended: false };
}

/** The JSON of one `event: message` frame. */
type Message = { type: string; data: string; seq: number; time: number; event?: SequencedEvent["event"] };

/** The SSE frames in `text` as {event, id (null without an id line), data}. */
function frames(text: string): Array<{ event: string; id: number | null; data: Message }> {
  return text
    .split("\n\n")
    .filter((f) => f.includes("data: "))
    .map((f) => {
      const field = (name: string) => f.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      const id = field("id");
      return { event: field("event") ?? "message", id: id === undefined ? null : Number(id), data: JSON.parse(field("data") ?? "") as Message };
    });
}

/**
 * What a llama-swap client sees, parsing as an EventSource does: only
 * `message` events, `JSON.parse(data)` → `{type, data}`, `data` JSON-parsed again.
 */
function llamaView(text: string): Array<{ type: string; data: unknown }> {
  const out: Array<{ type: string; data: unknown }> = [];
  for (const block of text.split("\n\n")) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "event") event = value;
      else if (name === "data") data.push(value);
    }
    if (data.length === 0 || event !== "message") continue;
    const envelope = JSON.parse(data.join("\n")) as { type: string; data: string };
    out.push({ type: envelope.type, data: JSON.parse(envelope.data) });
  }
  return out;
}

/** The five frames llama-swap sends first. */
const SNAPSHOT = 5;

/** Wraps a hub to count live subscriptions. */
function counting(hub: EventHub): { hub: EventHub; active: () => number } {
  let active = 0;
  return {
    active: () => active,
    hub: {
      publish: (e) => hub.publish(e),
      since: (s) => hub.since(s),
      subscribe(listener) {
        active++;
        const off = hub.subscribe(listener);
        return () => {
          active--;
          off();
        };
      },
      get lastSeq() {
        return hub.lastSeq;
      },
    },
  };
}

describe("EventHub", () => {
  test("numbers events from 1, one by one", () => {
    const hub = createEventHub();
    expect(hub.lastSeq).toBe(0);
    const seqs = [1, 2, 3].map((n) => hub.publish(clock(n)).seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect(hub.lastSeq).toBe(3);
  });

  test.each([
    [0, [1, 2, 3, 4, 5]],
    [3, [4, 5]],
    [5, []],
    [99, []],
  ])("since(%i) returns %j", (since, seqs) => {
    const hub = createEventHub();
    for (let i = 1; i <= 5; i++) hub.publish(clock(i));
    expect(hub.since(since).map((e) => e.seq)).toEqual(seqs);
  });

  test("keeps only the last `capacity` events for replay", () => {
    const hub = createEventHub(3);
    for (let i = 1; i <= 10; i++) hub.publish(clock(i));
    expect(hub.since(0).map((e) => e.seq)).toEqual([8, 9, 10]);
    expect(hub.since(8).map((e) => e.seq)).toEqual([9, 10]);
  });

  test("a throwing subscriber neither reaches the publisher nor its siblings", () => {
    const hub = createEventHub();
    const got: number[] = [];
    hub.subscribe(() => {
      throw new Error("boom");
    });
    const off = hub.subscribe((e) => got.push(e.seq));
    expect(() => hub.publish(clock(1))).not.toThrow();
    off();
    hub.publish(clock(2));
    expect(got).toEqual([1]);
  });

  test("rejects a capacity that is not a positive integer", () => {
    expect(() => createEventHub(0)).toThrow(RangeError);
  });
});

describe("connectHubs", () => {
  test("publishes every scheduler event and files log lines", async () => {
    const deps = testDeps();
    const disconnect = connectHubs(deps.scheduler, deps.logs, deps.events);
    await deps.scheduler.ready("llama");
    deps.scheduler.process("llama").stopError = "still there";
    await deps.scheduler.unload("llama");
    // Everything the scheduler said, in its order, and nothing else.
    expect(deps.events.since(0).map((e) => e.event)).toEqual(deps.scheduler.events);
    expect(deps.logs.history({ kind: "model", model: "llama" }).map((l) => l.text)).toEqual(["[llama] fake llama spawned"]);
    // The lifecycle lines of that start and stop, at their levels, tagged with the model.
    expect(deps.logs.history({ kind: "proxy" }).map((l) => l.text.replace(/\d+\.\d\ds/, "N.NNs"))).toEqual([
      expect.stringMatching(/^\[INFO\] \[llama\] starting: .*\(port 1\)$/),
      "[INFO] [llama] ready after N.NNs",
      "[INFO] [llama] unloading: unload requested",
      "[ERROR] [llama] Cannot stop model cleanly: Error: still there",
      "[INFO] [llama] stopped in N.NNs",
    ]);

    const seq = deps.events.lastSeq;
    deps.logs.append("proxy", null, "[INFO] from the main thread");
    expect(deps.events.since(seq).map((e) => e.event)).toEqual([{ kind: "proxyLog", line: "[INFO] from the main thread" }]);

    disconnect();
    await deps.scheduler.ready("llama");
    deps.logs.append("proxy", null, "after");
    expect(deps.events.lastSeq).toBe(seq + 1);
  });
});

describe("GET /api/events", () => {
  /** The front as served; logLevel warn, so its own request lines stay out of the logs under test. */
  function appFor(deps: LiveDeps = testDeps({ logLevel: "warn" })) {
    return { app: { request: serve(deps) }, deps };
  }
  /** Lets `status()` answer only when the test says (the real answer, held back). */
  function holdStatus(deps: LiveDeps): () => void {
    const real = deps.scheduler.status.bind(deps.scheduler);
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    deps.scheduler.status = () => gate.then(real);
    return open;
  }
  const ready = (model: string, previous: ModelState = "starting") => ({ kind: "modelState", model, state: "ready", previous }) as const;

  test("opens with a comment, then llama-swap's batch: proxy and upstream logs, model states, metrics [], in-flight total", async () => {
    const { app, deps } = appFor();
    await deps.scheduler.ready("llama");
    for (let i = 0; i < 3; i++) await deps.scheduler.acquire("llama");
    deps.logs.append("proxy", null, "proxy line 1");
    deps.logs.append("upstream", "llama", "weights loaded");
    deps.logs.append("proxy", null, "proxy line 2");
    deps.events.publish(clock(1));
    const res = await app.request("/api/events");
    expect(res.headers.get("Content-Type")).toStartWith("text/event-stream");
    const reader = res.body!.getReader();
    const { text } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT);
    expect(text).toStartWith(": modelswap events, last seq 1\n\n");
    expect(llamaView(text)).toEqual([
      { type: "logData", data: { source: "proxy", data: "proxy line 1\nproxy line 2\n" } },
      { type: "logData", data: { source: "upstream", data: "[llama] weights loaded\n" } },
      {
        type: "modelStatus",
        data: [
          {
            id: "author/qwen", name: "", description: "", state: "stopped", unlisted: false, peerID: "",
            inFlight: 0, queued: 0, since: expect.any(Number), error: null, retryAt: null,
          },
          {
            id: "llama", name: "", description: "", state: "ready", unlisted: false, peerID: "", aliases: ["gpt-4o"],
            inFlight: 3, queued: 0, since: expect.any(Number), error: null, retryAt: null,
          },
        ],
      },
      { type: "metrics", data: [] },
      { type: "inflight", data: { total: 3 } },
    ]);
    // Snapshot frames carry the hub's seq at connect and no `event`; the last one has `id: <that seq>`, so a
    // browser reconnecting before any live event resumes after the snapshot (Last-Event-ID) instead of receiving it again.
    expect(frames(text).map((f) => [f.id, f.data.seq, f.data.event])).toEqual([...Array(SNAPSHOT - 1).fill([null, 1, undefined]), [1, 1, undefined]]);
    await reader.cancel();
  });

  test("lists peers' models after the local ones, with their peerID", async () => {
    const { app } = appFor(testDeps({ logLevel: "warn", peers: { box: peerConfig("box", "http://127.0.0.1:1", ["m1", "m2"]) } }));
    const reader = (await app.request("/api/events")).body!.getReader();
    const { text } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT);
    const models = llamaView(text).find((m) => m.type === "modelStatus")!.data as Array<{ id: string; peerID: string }>;
    expect(models.map((m) => [m.id, m.peerID])).toEqual([
      ["author/qwen", ""],
      ["llama", ""],
      ["m1", "box"],
      ["m2", "box"],
    ]);
    await reader.cancel();
  });

  test.each([
    ["modelState", "modelStatus", ready("llama"), (d: unknown) => (d as Array<{ id: string; state: string }>).map((m) => `${m.id}:${m.state}`), ["author/qwen:stopped", "llama:ready"]],
    ["failed modelState", "modelStatus", { kind: "modelState", model: "llama", state: "failed", previous: "starting", detail: "exit code 3" } as const, (d: unknown) => (d as Array<{ state: string; error: string }>)[1]!, expect.objectContaining({ state: "failed", error: "exit code 3", retryAt: null })],
    ["backoff modelState", "modelStatus", { kind: "modelState", model: "llama", state: "failed", previous: "starting", detail: "exit code 3", retryInMs: 60_000, failures: 1 } as const, (d: unknown) => (d as Array<{ state: string; error: string }>)[1]!, expect.objectContaining({ state: "backoff", error: "exit code 3", retryAt: expect.any(Number) })],
    ["inflight", "inflight", { kind: "inflight", model: "llama", inFlight: 1, queued: 2 } as const, (d: unknown) => d, { total: 3 }],
    ["upstream log", "logData", { kind: "log", source: "upstream", model: "llama", line: "token 5" } as const, (d: unknown) => d, { source: "upstream", data: "[llama] token 5\n" }],
    ["scheduler log", "logData", { kind: "log", source: "scheduler", model: "llama", line: "health odd", level: "warn" } as const, (d: unknown) => d, { source: "proxy", data: "[WARN] [llama] health odd\n" }],
    ["scheduler log below logLevel", "logData", { kind: "log", source: "scheduler", model: "llama", line: "ready after 1.00s", level: "info", event: "ready" } as const, (d: unknown) => d, { source: "proxy", data: "" }],
    ["proxyLog", "logData", { kind: "proxyLog", line: "[INFO] hello" } as const, (d: unknown) => d, { source: "proxy", data: "[INFO] hello\n" }],
    ["request", "request", { kind: "request", model: "llama", id: 7, action: "granted" } as const, (d: unknown) => d, { kind: "request", model: "llama", id: 7, action: "granted" }],
    ["clock", "clock", clock(9), (d: unknown) => d, { kind: "clock", now: 9 }],
    ["profile", "profileChanged", { kind: "profile", active: "night" } as const, (d: unknown) => d, { active: "night" }],
  ])("a %s event reaches a llama-swap client as type %s with the right data", async (_name, type, event, pick, expected) => {
    const { app, deps } = appFor();
    const reader = (await app.request("/api/events")).body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, (t) => frames(t).length === SNAPSHOT, seen);
    const published = deps.events.publish(event);
    const { text } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT + 1, seen);
    const last = llamaView(text).at(-1)!;
    expect(last.type).toBe(type);
    expect(pick(last.data)).toEqual(expected);
    // ...and a modelswap script reads the same frame as the numbered hub event.
    const frame = frames(text).at(-1)!;
    expect(frame).toMatchObject({ event: "message", id: published.seq, data: { seq: published.seq, time: published.time, event } });
    await reader.cancel();
  });

  test("live frames carry increasing seq equal to their id, one per hub event", async () => {
    const { app, deps } = appFor();
    const reader = (await app.request("/api/events")).body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, (t) => frames(t).length === SNAPSHOT, seen);
    deps.events.publish({ kind: "modelState", model: "llama", state: "starting", previous: "stopped" });
    deps.events.publish({ kind: "inflight", model: "llama", inFlight: 1, queued: 0 });
    deps.events.publish(ready("llama"));
    const { text } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT + 3, seen);
    const live = frames(text).slice(SNAPSHOT);
    expect(live.map((f) => [f.id, f.data.seq, f.data.type])).toEqual([
      [1, 1, "modelStatus"],
      [2, 2, "inflight"],
      [3, 3, "modelStatus"],
    ]);
    await reader.cancel();
  });

  test("events published while the model states are being fetched follow the snapshot, none lost", async () => {
    const { app, deps } = appFor(testDeps({ logLevel: "warn" }, false));
    await deps.scheduler.starting("llama");
    const answer = holdStatus(deps);
    const reader = (await app.request("/api/events")).body!.getReader();
    deps.events.publish({ kind: "modelState", model: "llama", state: "starting", previous: "stopped" });
    deps.events.publish(ready("llama"));
    answer();
    const { text } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT + 2);
    expect(frames(text).map((f) => f.data.seq)).toEqual([0, 0, 0, 0, 0, 1, 2]);
    const states = llamaView(text).flatMap((m) => (m.type === "modelStatus" ? [(m.data as Array<{ id: string; state: string }>)[1]!.state] : []));
    expect(states).toEqual(["starting", "starting", "ready"]);
    await reader.cancel();
  });

  test("a log line written while the model states are being fetched is sent once, live, not also in the history", async () => {
    const { app, deps } = appFor();
    const disconnect = connectHubs(deps.scheduler, deps.logs, deps.events);
    deps.logs.append("proxy", null, "before");
    const answer = holdStatus(deps);
    const reader = (await app.request("/api/events")).body!.getReader();
    deps.logs.append("proxy", null, "meanwhile");
    answer();
    const { text } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT + 1);
    const proxyText = llamaView(text).flatMap((m) => (m.type === "logData" && (m.data as { source: string }).source === "proxy" ? [(m.data as { data: string }).data] : []));
    expect(proxyText).toEqual(["before\n", "meanwhile\n"]);
    await reader.cancel();
    disconnect();
  });

  test.each([
    ["?since=2", {}],
    ["", { "Last-Event-ID": "2" }],
  ])("replays buffered events after `since` (%s %j) instead of the snapshot, then model states, then live ones", async (query, headers) => {
    const { app, deps } = appFor();
    for (let i = 1; i <= 4; i++) deps.events.publish(clock(i));
    const reader = (await app.request(`/api/events${query}`, { headers })).body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, (t) => frames(t).length === 3, seen);
    deps.events.publish(clock(5));
    const { text } = await readUntil(reader, (t) => frames(t).length === 4, seen);
    expect(frames(text).map((f) => [f.id, f.data.seq, f.data.type])).toEqual([
      [3, 3, "clock"],
      [4, 4, "clock"],
      [null, 4, "modelStatus"],
      [5, 5, "clock"],
    ]);
    await reader.cancel();
  });

  test("a bad `since` is a 400", async () => {
    const { app } = appFor();
    const res = await app.request("/api/events?since=-1");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_since");
  });

  test("a consumer that stops reading is dropped once its unread events pass the limit, and publish goes on", async () => {
    const deps = testDeps({ logLevel: "warn" });
    const { hub, active } = counting(deps.events);
    deps.events = hub;
    const { app } = appFor(deps);
    const reader = (await app.request("/api/events")).body!.getReader();
    await readUntil(reader, (t) => frames(t).length === SNAPSHOT);
    expect(active()).toBe(1);

    // Publishing never waits for a consumer: it is dropped when its unread frames pass the limit.
    const view = new EventView(deps.config, []);
    let unread = 0;
    for (let i = 0; active() === 1 && i < 100_000; i++) {
      unread += eventFrame(deps.events.publish({ kind: "inflight", model: "llama", inFlight: i, queued: 0 }), view).length;
    }
    expect(active()).toBe(0);
    expect(unread).toBeGreaterThan(MAX_QUEUED_BYTES - 1000);
    expect(unread).toBeLessThanOrEqual(MAX_QUEUED_BYTES + 1000);
    for (let i = 0; i < 1000; i++) deps.events.publish({ kind: "inflight", model: "llama", inFlight: i, queued: 0 });

    const { text, ended } = await readUntil(reader, () => false);
    expect(ended).toBe(true);
    expect(text).toContain("event: dropped");
    expect(llamaView(text)).toEqual([]);
    expect(text.length).toBeLessThan(64 * 1024);
  });

  test("the connect-time batch does not count against the limit, however large the log history", async () => {
    const deps = testDeps({ logLevel: "warn" });
    deps.logs = createLogHub(deps.config, () => {}, { bufferBytes: 4 * MAX_QUEUED_BYTES });
    for (let i = 0; i < 2 * MAX_QUEUED_BYTES / 1000; i++) deps.logs.append("upstream", "llama", "x".repeat(1000));
    const { app } = appFor(deps);
    const reader = (await app.request("/api/events")).body!.getReader();
    const { text, ended } = await readUntil(reader, (t) => frames(t).length === SNAPSHOT);
    expect(ended).toBe(false);
    expect(text).not.toContain("event: dropped");
    await reader.cancel();
  });

  test("cancelling the stream unsubscribes it", async () => {
    const deps = testDeps({ logLevel: "warn" });
    const { hub, active } = counting(deps.events);
    deps.events = hub;
    const { app } = appFor(deps);
    const reader = (await app.request("/api/events")).body!.getReader();
    expect(active()).toBe(1);
    await reader.cancel();
    expect(active()).toBe(0);
  });
});

describe("GET /api/version", () => {
  test("answers llama-swap's shape with modelswap's version", async () => {
    const res = await serve(testDeps())("/api/version");
    expect(await res.json()).toEqual({ version: VERSION, commit: "", build_date: "" });
  });
});
