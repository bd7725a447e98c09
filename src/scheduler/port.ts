/**
 * The structural message port both sides of the scheduler talk through: a
 * Worker, the Worker's `self`, or one end of a `MessageChannel` in tests.
 */

/** Anything with `postMessage` and message events. */
export interface Port {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}
