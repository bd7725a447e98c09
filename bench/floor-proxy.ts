/**
 * modelswap's own parts with none of its features: `Bun.serve` exact routes,
 * the body read and parsed as modelswap reads it, and the pooled HTTP/1.1
 * client (src/lib/http1) — no scheduler, activity record, log line, cancel
 * registry or abort plumbing. Not part of `npm run bench`: a one-off floor
 * that tells whether a cost is Bun's or modelswap's (README, Benchmarks).
 *
 *   bun bench/floor-proxy.ts PORT UPSTREAM_URL        (POST /v1/chat/completions only)
 */
import { http1Fetch } from "../src/lib/http1/client.ts";

const [portArg, upstream] = process.argv.slice(2);
if (portArg === undefined || upstream === undefined) throw new TypeError("Usage: bun bench/floor-proxy.ts PORT UPSTREAM_URL");
const target = new URL(`${upstream}/v1/chat/completions`);
const decoder = new TextDecoder();

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(portArg),
  idleTimeout: 0,
  routes: {
    "/v1/chat/completions": {
      POST: async (req) => {
        const body = new Uint8Array(await req.arrayBuffer());
        JSON.parse(decoder.decode(body));
        const headers = new Headers(req.headers);
        headers.delete("host");
        const res = await http1Fetch(target, { method: "POST", headers, body, signal: req.signal, connectTimeoutMs: 0, tcpKeepAliveMs: 0 });
        return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
      },
    },
  },
  fetch: () => new Response("Cannot find route: only POST /v1/chat/completions", { status: 404 }),
});
console.log("floor-proxy: listening");
