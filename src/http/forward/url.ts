/**
 * Upstream addresses: the client's path and query joined onto a model's base URL.
 */

/** Joins an upstream base URL with the client's path and query. */
export function upstreamUrl(base: string, path: string, search: string): string {
  // No regular expression: a `replace` with one makes a RegExp object on every request.
  let end = base.length;
  while (end > 0 && base.charCodeAt(end - 1) === 47) end--;
  return `${end === base.length ? base : base.slice(0, end)}${path.startsWith("/") ? path : `/${path}`}${search}`;
}

/** The `?…` part of a request URL, or "". */
export function searchOf(req: Request): string {
  const url = req.url;
  const q = url.indexOf("?");
  return q < 0 ? "" : url.slice(q);
}
