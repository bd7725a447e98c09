/**
 * The client's contract with the Worker, checked against a scripted peer on
 * the other end of a MessageChannel.
 */
import { expect, test } from "bun:test";
import { SchedulerError } from "../../../src/scheduler/api.ts";
import { scriptedPeer } from "./scripted-peer.ts";
import { poll } from "../../../src/lib/async.ts";
import type { ToWorker } from "../../../src/scheduler/protocol.ts";

const setup = scriptedPeer;

test("a grant that arrives after the caller left is released at once", async () => {
  const { client, seen, send, until } = setup();
  const ctrl = new AbortController();
  const lease = client.acquire("A", { signal: ctrl.signal });
  await until(1);
  ctrl.abort(new Error("client gone"));
  await expect(lease).rejects.toThrow("client gone");
  send({ type: "granted", id: 1, upstream: "http://x" });
  await until(3);
  expect(seen).toEqual([
    { type: "acquire", id: 1, model: "A", wantProgress: false, noStart: false },
    { type: "cancel", id: 1 },
    { type: "release", id: 1 },
  ]);
});

test("release posts once however often it is called", async () => {
  const { client, seen, send, until } = setup();
  const pending = client.acquire("A", { noStart: true });
  await until(1);
  send({ type: "granted", id: 1, upstream: "http://x" });
  const lease = await pending;
  lease.release();
  lease.release();
  await until(2);
  expect(seen.slice(1)).toEqual([{ type: "release", id: 1 }]);
});

test("a rejection becomes a SchedulerError carrying the rejection; progress reaches the caller", async () => {
  const { client, send, until } = setup();
  const progress: string[] = [];
  const pending = client.acquire("A", { onProgress: (p) => progress.push(p.phase) });
  await until(1);
  send({ type: "progress", id: 1, progress: { model: "A", phase: "queued", position: 1, message: "" } });
  send({ type: "rejected", id: 1, rejection: { code: "backoff", status: 503, message: "later", retryAfter: 3 } });
  const err = (await pending.catch((e: unknown) => e)) as SchedulerError;
  expect(err).toBeInstanceOf(SchedulerError);
  expect(err.rejection).toEqual({ code: "backoff", status: 503, message: "later", retryAfter: 3 });
  expect(progress).toEqual(["queued"]);
});

test("a fatal message rejects every pending acquire and call with internal, and later calls too", async () => {
  const { client, send, until } = setup();
  const a = client.acquire("A");
  const s = client.status();
  await until(2);
  const orig = console.error;
  const logged: string[] = [];
  console.error = (m: string) => logged.push(m);
  try {
    send({ type: "fatal", message: "Scheduler worker failed: boom" });
    const codes = await Promise.all([a, s].map((p) => (p as Promise<unknown>).catch((e: SchedulerError) => e.rejection.code)));
    expect(codes).toEqual(["internal", "internal"]);
  } finally {
    console.error = orig;
  }
  expect(logged).toEqual(["Scheduler worker failed: boom (2 pending request(s) rejected)"]);
  expect(await client.unload(null).catch((e: SchedulerError) => e.rejection.code)).toBe("internal");
});

test("progress on every chunk becomes one activity report per period, naming each model once", async () => {
  const { client, seen, send, until } = setup();
  const pending = [client.acquire("A", { keepAliveMs: 0 }), client.acquire("B")];
  await until(1);
  send({ type: "granted", id: 1, upstream: "http://x" });
  send({ type: "granted", id: 2, upstream: "http://y" });
  const [a, b] = await Promise.all(pending);
  for (let i = 0; i < 1000; i++) a!.progress();
  b!.progress();
  await until(2);
  expect(seen).toEqual([
    { type: "batch", messages: [{ type: "acquire", id: 1, model: "A", wantProgress: false, noStart: false, keepAliveMs: 0 }, { type: "acquire", id: 2, model: "B", wantProgress: false, noStart: false }] },
    { type: "activity", models: ["A", "B"] },
  ]);
  a!.progress();
  await until(3);
  expect(seen[2]).toEqual({ type: "activity", models: ["A"] });
});

test("a call resolves with its reply's value; a reply tagged with another op is an internal error", async () => {
  const { client, send, until } = setup();
  const now = client.clockNow();
  const settled = client.settle(50);
  await until(2);
  send({ type: "reply", reqId: 1, ok: true, reply: { op: "clockNow", value: 42 } });
  send({ type: "reply", reqId: 2, ok: true, reply: { op: "clockNow", value: 7 } });
  expect(await now).toBe(42);
  const err = (await settled.catch((e: unknown) => e)) as SchedulerError;
  expect(err.rejection).toMatchObject({ code: "internal", message: "Cannot use the scheduler's reply as it answers clockNow, not settle" });
});

test("a grant's request goes on before the events of its batch are handled; the events follow, in order", async () => {
  const { client, send, until } = setup();
  const order: string[] = [];
  client.onEvent((e) => order.push(e.kind === "log" ? `log ${e.line}` : e.kind));
  const pending = client.acquire("A").then((lease) => order.push(`granted ${lease.model}`));
  await until(1);
  const log = { kind: "log", source: "upstream", model: "A", line: "ready" } as const;
  send({ type: "batch", messages: [{ type: "event", event: log }, { type: "granted", id: 1, upstream: "http://x", model: "A" }] });
  send({ type: "event", event: { ...log, line: "later" } });
  await pending;
  await poll(() => order.length === 3 || undefined, 1, { signal: AbortSignal.timeout(2000) });
  expect(order).toEqual(["granted A", "log ready", "log later"]);
});

test("a grant's request opens its upstream connection before the events of its batch are handled", async () => {
  // The model server: a listener that accepts and says nothing.
  const upstream = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { client, send, until } = setup();
  const order: string[] = [];
  client.onEvent((e) => order.push(e.kind === "log" ? `log ${e.line}` : e.kind));
  let socket: Bun.Socket | null = null;
  const connected = client.acquire("A").then(() =>
    Bun.connect({ hostname: "127.0.0.1", port: upstream.port, socket: { open: () => void order.push("connected"), data() {} } }).then((s) => (socket = s)),
  );
  try {
    await until(1);
    send({ type: "batch", messages: [{ type: "event", event: { kind: "log", source: "upstream", model: "A", line: "ready" } }, { type: "granted", id: 1, upstream: "http://x", model: "A" }] });
    await connected;
    await poll(() => order.length === 2 || undefined, 1, { signal: AbortSignal.timeout(2000) });
    expect(order).toEqual(["connected", "log ready"]);
  } finally {
    (socket as Bun.Socket | null)?.terminate();
    upstream.stop(true);
  }
});

/** Every message the client sent, batches opened. */
const flat = (seen: ToWorker[]) => seen.flatMap((m) => (m.type === "batch" ? m.messages : [m]));

/** A scripted peer whose client holds lease 1 of the reusable model A (granted once, then released). */
async function withHeldLease() {
  const peer = setup();
  peer.send({ type: "reusable", model: "A", ok: true });
  const first = peer.client.acquire("A");
  await peer.until(1);
  peer.send({ type: "granted", id: 1, upstream: "http://x" });
  (await first).release(true);
  return peer;
}

test("a released lease of a reusable model goes to the next request for it without asking; held leases are released after LEASE_HOLD_MS", async () => {
  const { client, seen, until } = await withHeldLease();
  const second = await client.acquire("A");
  expect(second.upstream).toBe("http://x");
  second.release(true);
  await until(2);
  // One grant served both requests; the scheduler saw one acquire and, once the hold was over, one release.
  expect(seen).toEqual([
    { type: "acquire", id: 1, model: "A", wantProgress: false, noStart: false },
    { type: "release", id: 1 },
  ]);
});

test("a lease whose answer failed (a crashed server, a broken stream) goes back to the scheduler, never to the next request", async () => {
  const { client, seen, send, until } = setup();
  send({ type: "reusable", model: "A", ok: true });
  const first = client.acquire("A");
  await until(1);
  send({ type: "granted", id: 1, upstream: "http://x" });
  (await first).release(false);
  client.acquire("A").catch(() => {}); // rejected when the test closes the client
  await poll(() => flat(seen).length >= 3 || undefined, 1, { signal: AbortSignal.timeout(2000) });
  expect(flat(seen).map((m) => `${m.type} ${"id" in m ? m.id : ""}`)).toEqual(["acquire 1", "release 1", "acquire 2"]);
});

test("a model that stops being reusable gets its held leases back at once; its next request asks", async () => {
  const { client, seen, send, until } = await withHeldLease();
  send({ type: "reusable", model: "A", ok: false });
  await until(2);
  client.acquire("A").catch(() => {}); // rejected when the test closes the client
  await until(3);
  expect(seen.slice(1)).toEqual([
    { type: "release", id: 1 },
    { type: "acquire", id: 2, model: "A", wantProgress: false, noStart: false },
  ]);
});

test("a call reaches the scheduler after every held lease was released", async () => {
  const { client, seen, until } = await withHeldLease();
  client.status().catch(() => {});
  await until(3);
  expect(seen.slice(1).map((m) => m.type)).toEqual(["release", "call"]);
});

test("a request through a selector or with its own keep_alive never takes a held lease; both release what they would have taken", async () => {
  const { client, seen } = await withHeldLease();
  client.acquire("A", { select: { strategy: "warm", targets: ["A"], peers: [], reserve: 1 } }).catch(() => {}); // rejected when the test closes the client
  client.acquire("A", { keepAliveMs: 60_000 }).catch(() => {});
  await poll(() => flat(seen).filter((m) => m.type === "acquire").length >= 3 || undefined, 1, { signal: AbortSignal.timeout(2000) });
  // The selector's target A gave its held lease back before the selector asked (real load for the pick).
  expect(flat(seen).map((m) => `${m.type} ${"id" in m ? m.id : ""}`)).toEqual(["acquire 1", "release 1", "acquire 2", "acquire 3"]);
});

test("after a request with its own keep_alive, releases go straight to the scheduler until a request without one has asked", async () => {
  const { client, seen, send, until } = setup();
  send({ type: "reusable", model: "A", ok: true });
  const first = client.acquire("A", { keepAliveMs: 60_000 });
  await until(1);
  send({ type: "granted", id: 1, upstream: "http://x" });
  (await first).release(true);
  // Not held: the scheduler must see the next request, whose grant sets the model's idle time back.
  await poll(() => flat(seen).some((m) => m.type === "release" && m.id === 1) || undefined, 1, { signal: AbortSignal.timeout(2000) });
  const second = client.acquire("A");
  await poll(() => flat(seen).some((m) => m.type === "acquire" && m.id === 2) || undefined, 1, { signal: AbortSignal.timeout(2000) });
  send({ type: "granted", id: 2, upstream: "http://x" });
  (await second).release(true);
  // That one went through the scheduler: its lease may be handed over again.
  const third = await client.acquire("A");
  expect(third.upstream).toBe("http://x");
  expect(flat(seen).filter((m) => m.type === "acquire").map((m) => m.id)).toEqual([1, 2]);
  third.release(true);
});
