/**
 * The pooled HTTP/1.1 client against real sockets: Bun.serve for ordinary
 * answers, raw Bun.listen servers for what Bun.serve never sends.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { type BodyControl, type BodyWatcher, CHUNKED_REUSE_WAIT_MS, closeIdleConnections, ConnectionReset, forwardableHeaders, http1Fetch, wholeBody } from "../../../../src/lib/http1/client.ts";
import { poll } from "../../../../src/lib/async.ts";
import { blackHole } from "../../../helpers/black-hole.ts";

const signal = () => AbortSignal.timeout(10_000);
const init = (method: string, body: string | null = null, headers: Record<string, string> = {}) => ({
  method,
  headers: new Headers(headers),
  body: body === null ? null : new TextEncoder().encode(body),
  signal: signal(),
});

/** A Bun.serve upstream that counts the connections it saw and echoes what it got. */
const ports = new Set<number>();
const serve = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req, srv) {
    const ip = srv.requestIP(req);
    if (ip) ports.add(ip.port);
    const url = new URL(req.url);
    if (url.pathname === "/big") return new Response(new Uint8Array(3 * 1024 * 1024).fill(7));
    if (url.pathname === "/stream") {
      return new Response(
        new ReadableStream({
          async start(c) {
            for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode(`data: ${i}\n\n`));
            c.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    return Response.json({ method: req.method, path: url.pathname + url.search, host: req.headers.get("host"), body: await req.text(), x: req.headers.get("x-test") });
  },
});
const base = `http://127.0.0.1:${serve.port}`;

/** A raw server that answers every request with `answer(n)` (n counts requests), or closes when it returns null. */
function rawServer(answer: (n: number, socket: Socket) => string | null) {
  let n = 0;
  const sockets: Socket[] = [];
  const closed: Socket[] = [];
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        sockets.push(s);
      },
      data(s) {
        const a = answer(++n, s);
        if (a === null) s.end();
        else if (a !== "") s.write(a);
      },
      close(s) {
        closed.push(s);
      },
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, sockets, closed, requests: () => n, stop: () => server.stop(true) };
}

let raw: ReturnType<typeof rawServer> | null = null;
afterEach(() => {
  raw?.stop();
  raw = null;
  closeIdleConnections();
});
afterAll(() => serve.stop(true));

describe("http1Fetch", () => {
  test("sends method, path, query, Host, headers and body; a small answer comes whole", async () => {
    const res = await http1Fetch(new URL(`${base}/v1/chat?x=1`), init("POST", '{"a":1}', { "x-test": "yes", "content-length": "999" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: "POST", path: "/v1/chat?x=1", host: `127.0.0.1:${serve.port}`, body: '{"a":1}', x: "yes" });
  });

  test("sequential requests reuse one keep-alive connection", async () => {
    ports.clear();
    for (let i = 0; i < 5; i++) await (await http1Fetch(new URL(`${base}/r${i}`), init("GET"))).text();
    expect(ports.size).toBe(1);
  });

  test("concurrent requests each get a connection, and all answers arrive", async () => {
    const texts = await Promise.all(Array.from({ length: 20 }, (_, i) => http1Fetch(new URL(`${base}/c${i}`), init("POST", `b${i}`)).then((r) => r.json())));
    expect(texts.map((t) => (t as { body: string }).body)).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
  });

  test("a small answer read whole hands out its bytes (wholeBody); a streamed one has none", async () => {
    const small = await http1Fetch(new URL(`${base}/w`), init("POST", "hi"));
    const bytes = wholeBody(small)!;
    expect(JSON.parse(new TextDecoder().decode(bytes))).toMatchObject({ path: "/w", body: "hi" });
    expect([...new Uint8Array(await small.arrayBuffer())]).toEqual([...bytes]);
    const streamed = await http1Fetch(new URL(`${base}/stream`), init("GET"));
    expect(wholeBody(streamed)).toBeUndefined();
    await streamed.text();
    expect(wholeBody(new Response("x"))).toBeUndefined();
  });

  test("an answer with no connection-specific field hands out its fields once (forwardableHeaders), to change freely", async () => {
    const plain = await http1Fetch(new URL(`${base}/w`), init("POST", "hi"));
    const own = forwardableHeaders(plain)!;
    expect(own.get("content-type")).toBe(plain.headers.get("content-type"));
    own.set("x-added", "1");
    expect(plain.headers.get("x-added")).toBeNull();
    expect(forwardableHeaders(plain)).toBeUndefined();
    await plain.text();
    // Transfer-Encoding is connection-specific.
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data: (s) => void s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n") },
    });
    try {
      const chunked = await http1Fetch(new URL(`http://127.0.0.1:${raw.port}/`), init("GET"));
      expect(forwardableHeaders(chunked)).toBeUndefined();
      expect(await chunked.text()).toBe("hi");
    } finally {
      raw.stop(true);
    }
    expect(forwardableHeaders(new Response("x"))).toBeUndefined();
  });

  test("a large answer streams through intact", async () => {
    const res = await http1Fetch(new URL(`${base}/big`), init("GET"));
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(3 * 1024 * 1024);
    expect(bytes.every((b) => b === 7)).toBe(true);
  });

  test("an event stream is a stream whose chunks all arrive", async () => {
    const res = await http1Fetch(new URL(`${base}/stream`), init("GET"));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(await res.text()).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(""));
  });

  test("a 10 MB request body is written whole (backpressure on the socket)", async () => {
    const big = "x".repeat(10 * 1024 * 1024);
    const res = await http1Fetch(new URL(`${base}/echo`), init("POST", big));
    expect(((await res.json()) as { body: string }).body.length).toBe(big.length);
  });

  test("a connection cut before any answer rejects with ConnectionReset", async () => {
    raw = rawServer(() => null);
    const err = await http1Fetch(new URL(`${raw.url}/x`), init("POST", "{}")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionReset);
    expect((err as ConnectionReset).code).toBe("ECONNRESET");
  });

  test("a connection cut mid-body errors the body stream, not silently", async () => {
    raw = rawServer((_, s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
      setImmediate(() => s.end());
      return "";
    });
    const res = await http1Fetch(new URL(`${raw.url}/x`), init("GET"));
    const err = await res.text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("closed before the response ended");
  });

  test("Connection: close is honoured: the next request opens a new connection", async () => {
    raw = rawServer(() => "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
    expect(await (await http1Fetch(new URL(`${raw.url}/a`), init("GET"))).text()).toBe("ok");
    expect(await (await http1Fetch(new URL(`${raw.url}/b`), init("GET"))).text()).toBe("ok");
    expect(raw.sockets.length).toBe(2);
  });

  test("after a streamed answer the server closes at once (llama-server's way): the POST right after goes out on a new connection and is answered", async () => {
    const streamed = "HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    raw = rawServer((n, s) => {
      if (n > 1) return "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
      s.write(streamed);
      s.end();
      return "";
    });
    expect(await (await http1Fetch(new URL(`${raw.url}/stream`), init("POST", "{}"))).text()).toBe("hello");
    for (let i = 0; i < 3; i++) expect(await (await http1Fetch(new URL(`${raw.url}/after`), init("POST", "{}"))).text()).toBe("ok");
    expect(raw.sockets.length).toBe(2);
  });

  test("a connection that carried a streamed answer and stayed open is reused once it waited CHUNKED_REUSE_WAIT_MS, not before", async () => {
    raw = rawServer((n) => (n === 1 ? "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    expect(await (await http1Fetch(new URL(`${raw.url}/stream`), init("POST", "{}"))).text()).toBe("hello");
    const ended = performance.now();
    expect(await (await http1Fetch(new URL(`${raw.url}/soon`), init("POST", "{}"))).text()).toBe("ok");
    expect(raw.sockets.length).toBe(2); // the streamed one was still waiting: a new connection
    await poll(() => (performance.now() - ended > CHUNKED_REUSE_WAIT_MS ? true : undefined), 5, { signal: signal() });
    await (await http1Fetch(new URL(`${raw.url}/later`), init("POST", "{}"))).text();
    await (await http1Fetch(new URL(`${raw.url}/later`), init("POST", "{}"))).text();
    expect(raw.sockets.length).toBe(2); // both pooled connections were usable again: no third
    expect(raw.closed.length).toBe(0);
  });

  test("a body delimited by the close arrives whole", async () => {
    raw = rawServer((_, s) => {
      s.write("HTTP/1.1 200 OK\r\n\r\nuntil ");
      setImmediate(() => s.end("the end"));
      return "";
    });
    expect(await (await http1Fetch(new URL(`${raw.url}/a`), init("GET"))).text()).toBe("until the end");
  });

  test("an abort while waiting for the answer rejects with the reason and closes the connection", async () => {
    raw = rawServer(() => "");
    const c = new AbortController();
    const p = http1Fetch(new URL(`${raw.url}/hang`), { ...init("GET"), signal: c.signal }).catch((e: unknown) => e);
    await poll(() => (raw!.requests() > 0 ? true : undefined), 2, { signal: signal() });
    c.abort(new Error("client left"));
    expect(((await p) as Error).message).toBe("client left");
    await poll(() => (raw!.closed.length > 0 ? true : undefined), 2, { signal: signal() });
  });

  test("cancelling a streamed body closes the connection", async () => {
    raw = rawServer((_, s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
      return "";
    });
    const res = await http1Fetch(new URL(`${raw.url}/x`), init("GET"));
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("hello");
    await reader.cancel();
    await poll(() => (raw!.closed.length > 0 ? true : undefined), 2, { signal: signal() });
  });

  test("a malformed answer rejects with a message that says so", async () => {
    raw = rawServer(() => "SMTP ready\r\n\r\n");
    const err = await http1Fetch(new URL(`${raw.url}/x`), init("GET")).catch((e: unknown) => e);
    expect((err as Error).message).toContain("Bad response from upstream: bad status line");
  });
});

test("a port nobody listens on rejects with 'connection refused'", async () => {
  const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = closed.port;
  closed.stop(true);
  const err = await http1Fetch(new URL(`http://127.0.0.1:${port}/x`), init("GET")).catch((e: unknown) => e);
  expect((err as Error).message).toBe("connection refused (ECONNREFUSED)");
});

describe("connecting", () => {
  test("a connection that does not open within connectTimeoutMs fails with a message that says so", async () => {
    const hole = await blackHole();
    try {
      const err = await http1Fetch(new URL(`http://127.0.0.1:${hole.port}/x`), { ...init("GET"), connectTimeoutMs: 200 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ message: "connect timed out after 0.2 s (ETIMEDOUT)", code: "ETIMEDOUT" });
    } finally {
      hole.close();
    }
  });

  test("an abort while connecting rejects with its reason at once, timeout or not", async () => {
    const hole = await blackHole();
    try {
      const ctrl = new AbortController();
      const pending = http1Fetch(new URL(`http://127.0.0.1:${hole.port}/x`), { ...init("GET"), signal: ctrl.signal }).catch((e: unknown) => e);
      ctrl.abort(new Error("client left"));
      expect(((await pending) as Error).message).toBe("client left");
    } finally {
      hole.close();
    }
  });

  test("TCP keepalive is on for new connections when asked, off otherwise (the kernel's keepalive timer in /proc/net/tcp)", async () => {
    const timerOf = async (tcpKeepAliveMs: number): Promise<string> => {
      closeIdleConnections();
      ports.clear();
      const res = await http1Fetch(new URL(`${base}/ka`), { ...init("GET"), tcpKeepAliveMs });
      await res.arrayBuffer();
      const [port] = [...ports];
      return keepaliveTimer(port!);
    };
    expect(await timerOf(30_000)).toBe("02");
    expect(await timerOf(0)).toBe("00");
  });
});

/** The timer field (`tr`: 00 none, 02 keepalive) of this machine's TCP socket whose local port is `port`. */
function keepaliveTimer(port: number): string {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const rows = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1).map((l: string) => l.trim().split(/\s+/));
  const row = rows.find((f: string[]) => f[1]?.endsWith(`:${hex}`) && f[3] === "01");
  if (row === undefined) throw new Error(`no established socket on local port ${port}`);
  return String(row[5]).split(":")[0]!;
}

test("chunks that arrived before the connection broke reach a late reader, then the error", async () => {
  raw = rawServer((_, s) => {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n7\r\ntoken1 \r\n7\r\ntoken2 \r\n");
    s.end();
    return "";
  });
  const res = await http1Fetch(new URL(`${raw.url}/x`), init("GET"));
  // Read only once the client side has handled the close (both ends share this event loop: a few turns
  // after the server's side closed), so the chunks are queued in an errored-or-not stream before the first read.
  await poll(() => (raw!.closed.length > 0 ? true : undefined), 2, { signal: signal() });
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  const reader = res.body!.getReader();
  let text = "";
  const err = await (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return null;
      text += new TextDecoder().decode(r.value);
    }
  })().catch((e: unknown) => e);
  expect(text).toBe("token1 token2 ");
  expect((err as Error).message).toContain("closed before the response ended");
});

describe("watchBody: a watcher inside the one body stream", () => {
  const sse = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
  const decode = (c: Uint8Array) => new TextDecoder().decode(c);

  /** A watcher that writes down what it is told; `out` is the control it was given. */
  function recorder() {
    const events: string[] = [];
    let out: BodyControl | null = null;
    const watcher: BodyWatcher = {
      chunk: (c) => void events.push(`chunk ${decode(c)}`),
      taken: () => {},
      finished: () => void events.push("finished"),
      broke: (e) => void events.push(`broke ${(e as Error).message}`),
      cancelled: () => void events.push("cancelled"),
    };
    const watchBody = (status: number, _headers: Headers, control: BodyControl) => {
      events.push(`head ${status}`);
      out = control;
      return watcher;
    };
    return { events, watchBody, out: () => out! };
  }

  test("sees each chunk as it arrives, and the end only once the reader took the last byte", async () => {
    raw = rawServer(() => sse);
    const r = recorder();
    const res = await http1Fetch(new URL(`${raw.url}/s`), { ...init("GET"), watchBody: r.watchBody });
    await poll(() => (r.events.length >= 3 ? true : undefined), 2, { signal: signal() });
    // The whole answer is in; the reader has taken none of it.
    expect(r.events).toEqual(["head 200", "chunk hello", "chunk world"]);
    expect(await res.text()).toBe("helloworld");
    expect(r.events).toEqual(["head 200", "chunk hello", "chunk world", "finished"]);
  });

  test("a small answer read whole, and a bodiless one, are not watched", async () => {
    raw = rawServer((n) => (n === 1 ? "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" : "HTTP/1.1 204 No Content\r\n\r\n"));
    const r = recorder();
    expect(await (await http1Fetch(new URL(`${raw.url}/a`), { ...init("GET"), watchBody: r.watchBody })).text()).toBe("ok");
    expect((await http1Fetch(new URL(`${raw.url}/b`), { ...init("GET"), watchBody: r.watchBody })).status).toBe(204);
    expect(r.events).toEqual([]);
  });

  test("a watcher that ends a body whose answer already came whole adds its last bytes and leaves the connection pooled", async () => {
    raw = rawServer(() => sse);
    const r = recorder();
    const res = await http1Fetch(new URL(`${raw.url}/s`), { ...init("GET"), watchBody: r.watchBody });
    await poll(() => (r.events.length >= 3 ? true : undefined), 2, { signal: signal() });
    r.out().end(new TextEncoder().encode("event: error\n\n"));
    expect(await res.text()).toBe("helloworldevent: error\n\n");
    expect(r.events).not.toContain("finished");
    const ended = performance.now();
    await poll(() => (performance.now() - ended > CHUNKED_REUSE_WAIT_MS ? true : undefined), 5, { signal: signal() });
    expect(await (await http1Fetch(new URL(`${raw.url}/again`), init("GET"))).text()).toBe("helloworld");
    expect(raw.sockets.length).toBe(1);
    expect(raw.closed.length).toBe(0);
  });

  test("a cut mid-body goes to the watcher, which decides what the reader gets; the connection is closed", async () => {
    raw = rawServer((_, s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
      setImmediate(() => s.end());
      return "";
    });
    const r = recorder();
    const res = await http1Fetch(new URL(`${raw.url}/x`), { ...init("GET"), watchBody: r.watchBody });
    await poll(() => (r.events.some((e) => e.startsWith("broke")) ? true : undefined), 2, { signal: signal() });
    expect(r.events[2]).toContain("closed before the response ended");
    r.out().end(null, new Error("cut, as the watcher says"));
    const reader = res.body!.getReader();
    expect(decode((await reader.read()).value!)).toBe("hello");
    expect(((await reader.read().catch((e: unknown) => e)) as Error).message).toBe("cut, as the watcher says");
  });

  test("a reader that cancels tells the watcher, and the connection is closed", async () => {
    raw = rawServer((_, s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
      return "";
    });
    const r = recorder();
    const res = await http1Fetch(new URL(`${raw.url}/x`), { ...init("GET"), watchBody: r.watchBody });
    const reader = res.body!.getReader();
    expect(decode((await reader.read()).value!)).toBe("hello");
    await reader.cancel(new Error("gone"));
    expect(r.events).toEqual(["head 200", "chunk hello", "cancelled"]);
    await poll(() => (raw!.closed.length > 0 ? true : undefined), 2, { signal: signal() });
  });
});
