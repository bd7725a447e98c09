/**
 * The structural message port both sides of the scheduler talk through: a
 * Worker, the Worker's `self`, or one end of a `MessageChannel` in tests.
 */

/** Anything with `postMessage` and message events; `In` is what arrives (the protocol's union for this side). */
export interface Port<In = unknown> {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent<In>) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent<In>) => void): void;
}
