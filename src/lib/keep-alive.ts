/**
 * Ollama's `keep_alive` request field: how long the model stays loaded after
 * this request. A number of seconds, or a Go duration (`10m`, `1h30m`,
 * `-1m`); 0 unloads right after the request, any negative value keeps the
 * model loaded.
 */
import { goDurationMs } from "./duration.ts";

const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;

/**
 * Milliseconds for a `keep_alive` value (negative: keep loaded), or throws a
 * `RangeError` naming what was wrong (the caller answers 400).
 *
 * @example
 * ```ts
 * parseKeepAlive(300); // 300000
 * parseKeepAlive("10m"); // 600000
 * parseKeepAlive("-1"); // -1000
 * parseKeepAlive(0); // 0
 * ```
 */
export function parseKeepAlive(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return Math.round(value * 1000);
  if (typeof value === "string") {
    const t = value.trim();
    if (/^[-+]?\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
    if (GO_DURATION.test(t)) return Math.round(goDurationMs(t));
  }
  throw new RangeError(`Cannot use keep_alive: expected seconds or a duration like "10m", got ${JSON.stringify(value)}`);
}
