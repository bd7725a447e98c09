/**
 * Numbers every event the main thread publishes, keeps the last few thousand
 * for `since` replays, and hands each to live subscribers synchronously.
 * A subscriber that throws is isolated; one that is slow must buffer and
 * drop itself (see `src/http/stream/push-stream.ts`), because `publish` never waits.
 */
import type { EventHub, SequencedEvent } from "./types.ts";

/**
 * Events kept for `since` replays by default. A proxied request publishes two
 * (its log line and its activity row), so this covers the last ~1,000
 * requests, as many as the activity log keeps by default (`metricsMaxInMemory`),
 * plus the model events among them. Why not more: the ring's objects stay in
 * the heap after a burst (10,000: ~4 MB, spread over heap blocks that then
 * cannot be given back), and a client away longer gets the current model
 * state in the replay anyway.
 */
export const EVENT_BUFFER_CAPACITY = 2_000;

export interface EventHubOptions {
  /** Wall clock in ms, for tests. */
  now?: () => number;
}

/**
 * Creates an event hub whose sequence numbers start at 1 and grow by one per event.
 *
 * @example
 * ```ts
 * const hub = createEventHub();
 * hub.publish({ kind: "clock", now: 0 }).seq; // 1
 * hub.since(0).length; // 1
 * ```
 */
export function createEventHub(capacity: number = EVENT_BUFFER_CAPACITY, options: EventHubOptions = {}): EventHub {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`Cannot create an event hub as 'capacity' must be a positive integer: current value is ${capacity}`);
  }
  const now = options.now ?? Date.now;
  /** Ring of the last `capacity` events; the event with seq s sits at (s - 1) % capacity. */
  const ring: SequencedEvent[] = [];
  const listeners = new Set<(e: SequencedEvent) => void>();
  let lastSeq = 0;

  return {
    publish(event) {
      const e: SequencedEvent = { seq: ++lastSeq, time: now(), event };
      ring[(e.seq - 1) % capacity] = e;
      // Most of the time nobody listens (no /api/events client): no copy of the set then (one per request line).
      if (listeners.size === 0) return e;
      for (const listener of [...listeners]) {
        try {
          listener(e);
        } catch {
          // A failing subscriber must not break the publisher or its siblings.
        }
      }
      return e;
    },
    since(since) {
      const first = Math.max(lastSeq - capacity + 1, 1, Math.floor(since) + 1);
      const out: SequencedEvent[] = [];
      for (let s = first; s <= lastSeq; s++) out.push(ring[(s - 1) % capacity]!);
      return out;
    },
    subscribe(listener) {
      // Wrap so the same function may subscribe twice and unsubscribe independently.
      const own = (e: SequencedEvent) => listener(e);
      listeners.add(own);
      return () => {
        listeners.delete(own);
      };
    },
    get lastSeq() {
      return lastSeq;
    },
  };
}
