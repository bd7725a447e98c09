/**
 * A scheduler client wired to a scripted Worker stand-in over a
 * MessageChannel: the test sees every message the client sends and answers
 * with whatever `FromWorker` messages it likes.
 */
import { afterEach } from "bun:test";
import { poll } from "../../../src/lib/async.ts";
import { createSchedulerOverPort } from "../../../src/scheduler/client.ts";
import { decodeToWorker, type FromWorker, type ToWorker } from "../../../src/scheduler/protocol.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A client, the messages it sent, a way to answer, and a wait for the n-th message. */
export function scriptedPeer() {
  const { port1, port2 } = new MessageChannel();
  const seen: ToWorker[] = [];
  // Decoded as the Worker decodes them (a batch crosses as JSON text).
  port2.addEventListener("message", (e) => void seen.push(decodeToWorker((e as MessageEvent).data as ToWorker | string)));
  port1.start();
  port2.start();
  const client = createSchedulerOverPort(port1);
  const send = (m: FromWorker) => port2.postMessage(m);
  const until = (n: number) => poll(() => seen.length >= n || undefined, 1, { signal: AbortSignal.timeout(2000) });
  cleanups.push(() => {
    client.close();
    port1.close();
    port2.close();
  });
  return { client, seen, send, until };
}
