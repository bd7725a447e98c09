/**
 * Every postMessage wakes the other thread, so the client sends the acquires
 * and releases of one event-loop turn as one `batch` message, and takes
 * batches from the Worker apart again, without ever reordering messages.
 */
import { expect, test } from "bun:test";
import { scriptedPeer } from "./scripted-peer.ts";

const setup = scriptedPeer;

test("acquires of one event-loop turn cross as one batch, in order", async () => {
  const { client, seen, until } = setup();
  client.acquire("A").catch(() => {});
  client.acquire("B").catch(() => {});
  client.acquire("A").catch(() => {});
  await until(1);
  expect(seen).toEqual([
    {
      type: "batch",
      messages: [
        { type: "acquire", id: 1, model: "A", wantProgress: false, noStart: false },
        { type: "acquire", id: 2, model: "B", wantProgress: false, noStart: false },
        { type: "acquire", id: 3, model: "A", wantProgress: false, noStart: false },
      ],
    },
  ]);
});

test("a lone acquire crosses as itself", async () => {
  const { client, seen, until } = setup();
  client.acquire("A").catch(() => {});
  await until(1);
  expect(seen).toEqual([{ type: "acquire", id: 1, model: "A", wantProgress: false, noStart: false }]);
});

test("any other message sends the pending ones first, so nothing is reordered", async () => {
  const { client, seen, until } = setup();
  client.acquire("A").catch(() => {});
  client.status().catch(() => {});
  await until(2);
  expect(seen).toEqual([
    { type: "acquire", id: 1, model: "A", wantProgress: false, noStart: false },
    { type: "call", reqId: 2, call: { op: "status" } },
  ]);
});

test("a batch from the Worker is handled message by message", async () => {
  const { client, send, until } = setup();
  const a = client.acquire("A");
  const b = client.acquire("B");
  await until(1);
  send({
    type: "batch",
    messages: [
      { type: "granted", id: 1, upstream: "http://a" },
      { type: "rejected", id: 2, rejection: { code: "model_not_found", status: 404, message: "no B" } },
    ],
  });
  expect((await a).upstream).toBe("http://a");
  expect(await b.catch((e: unknown) => (e as Error).message)).toBe("no B");
});
