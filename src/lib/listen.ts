/**
 * The `--listen` address, spelled the way Go's net.Listen (and so llama-swap)
 * takes it: `HOST:PORT`, `:PORT` for every interface, `[::1]:PORT` for IPv6.
 */

export interface ListenAddress {
  /** Host to bind; "0.0.0.0" when the address had none, like Go. */
  hostname: string;
  port: number;
  /** The address as the user wrote it. */
  text: string;
}

/**
 * Splits a listen address into host and port, or throws a `RangeError`.
 *
 * @example
 * ```ts
 * parseListen(":8080"); // { hostname: "0.0.0.0", port: 8080, text: ":8080" }
 * ```
 */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new RangeError(`Cannot parse listen address: expected HOST:PORT or :PORT, got '${text}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new RangeError(`Cannot parse listen address: port must be 0-65535, got ${port}`);
  const hostname = m[1] ?? (m[2] === "" || m[2] === undefined ? "0.0.0.0" : m[2]);
  return { hostname, port, text };
}

/** True for addresses only this machine can reach (test hooks are safe there). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The host part of a URL for `hostname`, with IPv6 in brackets. */
export function urlHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
