/**
 * Upstream addresses: the client's path and query joined onto a model's base URL.
 */

/** Joins an upstream base URL with the client's path and query. */
export function upstreamUrl(base: string, path: string, search: string): string {
  return `${base.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}${search}`;
}

/** The `?…` part of a request URL, or "". */
export function searchOf(req: Request): string {
  const url = req.url;
  const q = url.indexOf("?");
  return q < 0 ? "" : url.slice(q);
}
