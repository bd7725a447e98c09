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

/** True for the wildcard addresses that bind every interface (`:8080` means 0.0.0.0). */
export function isEveryInterface(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::" || hostname === "[::]" || hostname === "";
}

/**
 * The warning printed at start when modelswap listens on every interface: a
 * line when API keys guard it, a louder block when nothing does (then anyone
 * on the network can start, use and stop models). Null on other addresses.
 *
 * @example
 * ```ts
 * exposureWarning(parseListen(":8080"), []); // "WARNING: modelswap listens on every interface …"
 * ```
 */
export function exposureWarning(listen: ListenAddress, apiKeys: readonly string[]): string | null {
  if (!isEveryInterface(listen.hostname)) return null;
  const local = `127.0.0.1:${listen.port}`;
  if (apiKeys.length > 0) {
    return `warning: listening on every interface (${listen.text}): every host that can reach this machine can reach modelswap (apiKeys are required); use --listen ${local} to keep it local`;
  }
  return [
    `WARNING: modelswap listens on every interface (${listen.text}) and no apiKeys are set:`,
    "WARNING: any host that can reach this machine can run, use and stop your models.",
    `WARNING: set apiKeys in the config, or use --listen ${local} to keep it local.`,
  ].join("\n");
}
