/**
 * The smallest correct Bun reverse proxy (Bun.serve + fetch, streaming body
 * pass-through, no framework, no Worker): the baseline that shows how much of
 * modelswap's cost is Bun's own and how much is modelswap's.
 *
 *   bun bench/bun-proxy.ts PORT=UPSTREAM_URL [PORT=UPSTREAM_URL ...]
 */

for (const arg of process.argv.slice(2)) {
  const eq = arg.indexOf("=");
  const port = Number(arg.slice(0, eq));
  const upstream = arg.slice(eq + 1);
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(upstream + url.pathname + url.search, {
        method: req.method,
        headers,
        body: req.body,
        signal: req.signal,
        redirect: "manual",
        timeout: false,
        decompress: false,
      } as RequestInit);
      return new Response(res.body, { status: res.status, headers: res.headers });
    },
  });
}
console.log("bun-proxy: listening");
