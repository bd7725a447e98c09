/**
 * Small answers with a Content-Length are read whole and sent as bytes (no
 * JS stream wrapper): the lease is still released exactly once whatever
 * happens while the body is read, a client abort still reaches the upstream,
 * and a drain still ends the request cleanly.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { poll } from "../../../src/lib/async.ts";
import { config } from "./config-fixture.ts";
import { type LiveDeps, listen, makeDeps, post, servedBy, startUpstream } from "./helpers.ts";

const upstream = startUpstream();
afterAll(() => upstream.stop());

/**
 * A raw HTTP upstream that cuts the first `resets` connections without an
 * answer, then sends its headers (Content-Length: 10) and the
 * first 5 body bytes, then holds; the test decides to close it or not.
 */
function halfBodyUpstream(resets = 0) {
  const sockets: Socket[] = [];
  const bodies: string[] = [];
  let closedAt: number | null = null;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        bodies.push(data.toString().split("\r\n\r\n")[1] ?? "");
        if (bodies.length <= resets) return void socket.end();
        sockets.push(socket);
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{\"a\":");
      },
      close(socket) {
        if (sockets.includes(socket)) closedAt ??= performance.now();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    seen: () => sockets.length,
    bodies,
    closedAt: () => closedAt,
    cut: () => {
      for (const s of sockets) s.end();
    },
    stop: () => server.stop(true),
  };
}

let raw: ReturnType<typeof halfBodyUpstream> | null = null;
afterEach(() => {
  raw?.stop();
  raw = null;
});

function start(upstreamUrl: string) {
  const deps = makeDeps(servedBy(config({ llama: {} }), upstreamUrl));
  const server = listen(deps);
  return { deps, url: server.url, server };
}

const signal = () => AbortSignal.timeout(5000);
/** Waits for the one release the request owes, and checks it is the only one. */
const releasedOnce = async (deps: LiveDeps) => expect(await deps.scheduler.released()).toEqual(["llama"]);

describe("answers read whole", () => {
  test("a small JSON answer arrives whole with its Content-Length and releases once", async () => {
    const { deps, url } = start(upstream.url);
    const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(res.headers.get("content-length")).toBe(String(new TextEncoder().encode(text).byteLength));
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    expect((JSON.parse(text) as { path: string }).path).toBe("/v1/chat/completions");
    await releasedOnce(deps);
  });

  test("an answer's connection-specific fields stay behind and its others go on, with or without any", async () => {
    // One raw upstream, two answers: one with hop-by-hop fields (and one its Connection names), one without.
    let n = 0;
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          const extra = n++ === 0 ? "connection: keep-alive, x-conn-only\r\nkeep-alive: timeout=5\r\nx-conn-only: 1\r\ntrailer: x-t\r\n" : "";
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}x-model-server: fake\r\ncontent-length: 2\r\n\r\n{}`);
        },
      },
    });
    try {
      const { url } = start(`http://127.0.0.1:${server.port}`);
      for (const withHopByHop of [true, false]) {
        const res = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
        expect(await res.text()).toBe("{}");
        expect(res.headers.get("x-model-server")).toBe("fake");
        expect(res.headers.get("x-accel-buffering")).toBe("no");
        expect(res.headers.get("content-type")).toBe("application/json");
        for (const name of ["keep-alive", "x-conn-only", "trailer"]) expect(res.headers.get(name)).toBeNull();
        expect(n).toBe(withHopByHop ? 1 : 2);
      }
    } finally {
      server.stop(true);
    }
  });

  test("a client abort while the body is read closes the upstream connection and releases once", async () => {
    raw = halfBodyUpstream();
    const { deps, url } = start(raw.url);
    const client = new AbortController();
    const res = fetch(`${url}/v1/chat/completions`, { ...post({ model: "llama" }), signal: client.signal }).catch((e: unknown) => e);
    await poll(() => (raw!.seen() > 0 ? true : undefined), 2, { signal: signal() });
    client.abort();
    await res;
    // The upstream connection closes although the upstream never ends its body: the abort reached it.
    await poll(() => raw!.closedAt() ?? undefined, 2, { signal: signal() });
    await releasedOnce(deps);
  });

  test("an upstream that dies in the middle of the body is a 502 and releases once", async () => {
    raw = halfBodyUpstream();
    const { deps, url } = start(raw.url);
    const res = fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    await poll(() => (raw!.seen() > 0 ? true : undefined), 2, { signal: signal() });
    raw.cut();
    const r = await res;
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
    await releasedOnce(deps);
  });

  test("a drain past its grace period ends a body still being read with 503", async () => {
    raw = halfBodyUpstream();
    const { deps, url, server } = start(raw.url);
    const res = fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    await poll(() => (raw!.seen() > 0 ? true : undefined), 2, { signal: signal() });
    await server.drain(20);
    const r = await res;
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
    await releasedOnce(deps);
  });
});

describe("a connection cut before any answer: retry only what cannot be processed twice", () => {
  test("a POST the upstream read and then reset is not sent again: 502, and the upstream saw it once", async () => {
    raw = halfBodyUpstream(1);
    const { deps, url } = start(raw.url);
    const r = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }));
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
    expect(raw.bodies).toHaveLength(1);
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("a POST with an Idempotency-Key is retried once, with the same bytes", async () => {
    raw = halfBodyUpstream(1);
    const { deps, url } = start(raw.url);
    const res = fetch(`${url}/v1/chat/completions`, post({ model: "llama" }, { "Idempotency-Key": "k-1" }));
    await poll(() => (raw!.seen() > 0 ? true : undefined), 2, { signal: signal() });
    raw.cut();
    await res;
    expect(raw.bodies).toHaveLength(2);
    expect(raw.bodies[1]).toBe(raw.bodies[0]);
    expect(JSON.parse(raw.bodies[1]!)).toEqual({ model: "llama" });
    await releasedOnce(deps);
  });

  test("twice in a row is a 502 even for a retried request", async () => {
    raw = halfBodyUpstream(2);
    const { deps, url } = start(raw.url);
    const r = await fetch(`${url}/v1/chat/completions`, post({ model: "llama" }, { "Idempotency-Key": "k-2" }));
    expect(r.status).toBe(502);
    expect(raw.bodies).toHaveLength(2);
    await releasedOnce(deps);
  });
});
