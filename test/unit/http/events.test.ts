import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { EventHub, SequencedEvent } from "../../../src/http/deps.ts";
import { createEventHub } from "../../../src/http/event-hub.ts";
import { connectHubs } from "../../../src/http/hubs.ts";
import { eventFrame, eventRoutes } from "../../../src/http/routes/events.ts";
import { MAX_QUEUED_BYTES } from "../../../src/http/sse.ts";
import { deadline } from "../../../src/lib/async.ts";
import { testDeps } from "./observability-fake-scheduler.ts";

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

/** The SSE frames in `text` as {event, id, data}. */
function frames(text: string): Array<{ event: string; id: number; data: SequencedEvent }> {
  return text
    .split("\n\n")
    .filter((f) => f.includes("data: "))
    .map((f) => {
      const field = (name: string) => f.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? "";
      return { event: field("event"), id: Number(field("id")), data: JSON.parse(field("data")) as SequencedEvent };
    });
}

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
  test("publishes every scheduler event and files log lines", () => {
    const deps = testDeps();
    const disconnect = connectHubs(deps.scheduler, deps.logs, deps.events);
    deps.scheduler.emit({ kind: "modelState", model: "llama", state: "starting", previous: "stopped" });
    deps.scheduler.emit({ kind: "log", source: "upstream", model: "llama", line: "loading weights" });
    deps.scheduler.emit({ kind: "log", source: "scheduler", model: "llama", line: "health check passed" });
    expect(deps.events.since(0).map((e) => e.event.kind)).toEqual(["modelState", "log", "log"]);
    expect(deps.logs.history({ kind: "model", model: "llama" }).map((l) => l.text)).toEqual(["loading weights"]);
    expect(deps.logs.history({ kind: "proxy" }).map((l) => l.text)).toEqual(["[llama] health check passed"]);

    deps.logs.append("proxy", null, "[INFO] from the main thread");
    expect(deps.events.since(3).map((e) => e.event)).toEqual([{ kind: "proxyLog", line: "[INFO] from the main thread" }]);

    disconnect();
    expect(deps.scheduler.listenerCount).toBe(0);
    deps.scheduler.emit({ kind: "clock", now: 5 });
    deps.logs.append("proxy", null, "after");
    expect(deps.events.lastSeq).toBe(4);
  });
});

describe("GET /api/events", () => {
  function appFor(deps = testDeps()) {
    const app = new Hono();
    app.route("/", eventRoutes(deps));
    return { app, deps };
  }

  test("streams events as SSE frames named by kind, with seq", async () => {
    const { app, deps } = appFor();
    const res = await app.request("/api/events");
    expect(res.headers.get("Content-Type")).toStartWith("text/event-stream");
    const reader = res.body!.getReader();
    deps.events.publish({ kind: "inflight", model: "llama", inFlight: 1, queued: 0 });
    deps.events.publish({ kind: "request", model: "llama", id: 7, action: "granted" });
    const { text } = await readUntil(reader, (t) => frames(t).length === 2);
    expect(frames(text).map((f) => [f.event, f.id, f.data.seq, f.data.event.kind])).toEqual([
      ["inflight", 1, 1, "inflight"],
      ["request", 2, 2, "request"],
    ]);
    await reader.cancel();
  });

  test.each([
    ["?since=2", {}],
    ["", { "Last-Event-ID": "2" }],
  ])("replays buffered events after `since` (%s %j) before live ones", async (query, headers) => {
    const { app, deps } = appFor();
    for (let i = 1; i <= 4; i++) deps.events.publish(clock(i));
    const reader = (await app.request(`/api/events${query}`, { headers })).body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, (t) => frames(t).length === 2, seen);
    deps.events.publish(clock(5));
    const { text } = await readUntil(reader, (t) => frames(t).length === 3, seen);
    expect(frames(text).map((f) => f.data.seq)).toEqual([3, 4, 5]);
    await reader.cancel();
  });

  test("a bad `since` is a 400", async () => {
    const { app } = appFor();
    const res = await app.request("/api/events?since=-1");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_since");
  });

  test("a consumer that never reads is dropped once its unread events pass the limit, and publish goes on", async () => {
    const deps = testDeps();
    const { hub, active } = counting(deps.events);
    deps.events = hub;
    const { app } = appFor(deps);
    const res = await app.request("/api/events");
    expect(active()).toBe(1);

    // Publishing never waits for a consumer: it is dropped when its unread frames pass the limit.
    let unread = 0;
    for (let i = 0; active() === 1 && i < 100_000; i++) {
      unread += eventFrame(deps.events.publish({ kind: "inflight", model: "llama", inFlight: i, queued: 0 })).length;
    }
    expect(active()).toBe(0);
    expect(unread).toBeGreaterThan(MAX_QUEUED_BYTES - 1000);
    expect(unread).toBeLessThanOrEqual(MAX_QUEUED_BYTES + 1000);
    for (let i = 0; i < 1000; i++) deps.events.publish({ kind: "inflight", model: "llama", inFlight: i, queued: 0 });

    const { text, ended } = await readUntil(res.body!.getReader(), () => false);
    expect(ended).toBe(true);
    expect(text).toContain("event: dropped");
    expect(text.length).toBeLessThan(64 * 1024);
  });

  test("cancelling the stream unsubscribes it", async () => {
    const deps = testDeps();
    const { hub, active } = counting(deps.events);
    deps.events = hub;
    const { app } = appFor(deps);
    const reader = (await app.request("/api/events")).body!.getReader();
    expect(active()).toBe(1);
    await reader.cancel();
    expect(active()).toBe(0);
  });
});
