/**
 * Readiness polling (src/supervisor/health.ts): fast while a start is young,
 * backing off as it goes on, and at once when the server prints a line. Time
 * is a ManualClock: a pause ends only when a test moves it (or a nudge ends it).
 */
import { describe, expect, test } from "bun:test";
import { poll } from "../../../src/lib/async.ts";
import { ManualClock } from "../../../src/lib/clock.ts";
import { HEALTH_MAX_INTERVAL_MS, HEALTH_MIN_INTERVAL_MS, healthInterval, Nudge, probe, waitHealthy } from "../../../src/supervisor/health.ts";
import { closeIdleConnections } from "../../../src/lib/http1/client.ts";
import { takeIdle } from "../../../src/lib/http1/pool.ts";

const until = (fn: () => boolean) => poll(() => fn() || undefined, 1, { signal: AbortSignal.timeout(5000) });

/** A server whose health check fails until `ready` is set; counts the attempts. */
function server() {
  const s = {
    ready: false,
    attempts: 0,
    check: async () => {
      s.attempts++;
      return s.ready ? null : "status 503";
    },
  };
  return s;
}

describe("healthInterval", () => {
  test.each([
    [0, HEALTH_MIN_INTERVAL_MS],
    [100, 2],
    [500, 10],
    [1000, 20],
    [2500, 50],
    [5000, HEALTH_MAX_INTERVAL_MS],
    [600_000, HEALTH_MAX_INTERVAL_MS],
  ])("%p ms into a start it waits %p ms", (elapsed, want) => {
    expect(healthInterval(elapsed)).toBe(want);
  });

  test("a minute of load costs hundreds of attempts, not the 30,000 of a fixed 2 ms", () => {
    let t = 0;
    let n = 0;
    while (t < 60_000) {
      t += healthInterval(t);
      n++;
    }
    expect(n).toBeLessThan(1000);
  });
});

describe("waitHealthy", () => {
  test("pauses follow the interval on the clock, and it resolves at the first 200", async () => {
    const clock = new ManualClock();
    const s = server();
    let done = false;
    const p = waitHealthy("http://unused", AbortSignal.timeout(10_000), { clock, check: s.check, interval: () => 10 }).then(() => (done = true));
    await until(() => clock.pending === 1);
    expect(s.attempts).toBe(1);
    clock.advance(9);
    expect(s.attempts).toBe(1);
    clock.advance(1);
    await until(() => s.attempts === 2 && clock.pending === 1);
    s.ready = true;
    clock.advance(10);
    await p;
    expect(done).toBe(true);
    expect(s.attempts).toBe(3);
  });

  test("the pause grows with the time waited (the clock is what it reads)", async () => {
    const clock = new ManualClock();
    const s = server();
    const asked: number[] = [];
    const abort = new AbortController();
    const p = waitHealthy("http://unused", abort.signal, { clock, check: s.check, interval: (elapsed) => (asked.push(elapsed), healthInterval(elapsed)) });
    await until(() => clock.pending === 1);
    clock.advance(1000); // the first pause (2 ms) is long over: the next one is sized at 1 s
    await until(() => asked.length === 2 && clock.pending === 1);
    expect(asked).toEqual([0, 1000]);
    abort.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
  });

  test("a line from the server probes at once, without waiting out the pause", async () => {
    const clock = new ManualClock();
    const s = server();
    const nudge = new Nudge();
    const p = waitHealthy("http://unused", AbortSignal.timeout(10_000), { clock, check: s.check, nudge, interval: () => 100 });
    await until(() => clock.pending === 1);
    s.ready = true;
    nudge.nudge(); // e.g. "server is listening": no clock moved
    await p;
    expect(s.attempts).toBe(2);
    expect(clock.now()).toBe(0);
  });

  test("a line printed while an attempt runs makes the next attempt follow at once", async () => {
    const clock = new ManualClock();
    const nudge = new Nudge();
    let attempts = 0;
    const check = async () => {
      attempts++;
      if (attempts === 1) {
        nudge.nudge(); // the server prints as it turns ready, while the first attempt is out
        return "status 503";
      }
      return null;
    };
    await waitHealthy("http://unused", AbortSignal.timeout(10_000), { clock, check, nudge, interval: () => 100 });
    expect(attempts).toBe(2);
    expect(clock.pending).toBe(0);
  });

  test("an abort ends the pause with the signal's reason, and leaves no sleeper behind", async () => {
    const clock = new ManualClock();
    const s = server();
    const abort = new AbortController();
    const p = waitHealthy("http://unused", abort.signal, { clock, check: s.check, nudge: new Nudge(), interval: () => 100 });
    await until(() => clock.pending === 1);
    abort.abort(new Error("start cancelled"));
    await expect(p).rejects.toThrow("start cancelled");
    expect(clock.pending).toBe(0);
  });
});

describe("probe", () => {
  test("200 is healthy; any other status, a redirect included, says which; a closed port says connection refused", async () => {
    const s = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/ok") return new Response("ok");
        if (path === "/moved") return new Response(null, { status: 302, headers: { location: "/ok" } });
        return new Response("loading", { status: 503 });
      },
    });
    try {
      const base = `http://127.0.0.1:${s.port}`;
      expect(await probe(`${base}/ok`, AbortSignal.timeout(5000))).toBeNull();
      expect(await probe(`${base}/health`, AbortSignal.timeout(5000))).toBe("status 503");
      expect(await probe(`${base}/moved`, AbortSignal.timeout(5000))).toBe("status 302");
    } finally {
      s.stop(true);
    }
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    expect(await probe(`http://127.0.0.1:${port}/health`, AbortSignal.timeout(5000))).toContain("connection refused");
  });

  test("attempts reuse one kept-alive connection", async () => {
    const peers = new Set<number>();
    const s = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, srv) => {
        peers.add(srv.requestIP(req)!.port);
        return new Response("ok");
      },
    });
    try {
      for (let i = 0; i < 5; i++) expect(await probe(`http://127.0.0.1:${s.port}/health`, AbortSignal.timeout(5000))).toBeNull();
      expect(peers.size).toBe(1);
    } finally {
      closeIdleConnections();
      s.stop(true);
    }
  });

  test("a kept-alive connection the server closes instead of answering: the check goes out again on a new one", async () => {
    // Each connection answers its first request (keep-alive) and closes on its second without a word.
    const served = new Map<object, number>();
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s) {
          const n = (served.get(s) ?? 0) + 1;
          served.set(s, n);
          if (n === 1) s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
          else s.end();
        },
      },
    });
    try {
      const url = `http://127.0.0.1:${server.port}/health`;
      expect(await probe(url, AbortSignal.timeout(5000))).toBeNull();
      expect(await probe(url, AbortSignal.timeout(5000))).toBeNull();
      expect(served.size).toBe(2);
    } finally {
      closeIdleConnections();
      server.stop(true);
    }
  });

  test("once waitHealthy is done, its checks' kept-alive connection is closed (a one-connection server is free for the proxy)", async () => {
    const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
    try {
      await waitHealthy(`http://127.0.0.1:${s.port}/health`, AbortSignal.timeout(5000));
      // The close runs in the task after the pass (a timer of 0): one more task, then the pool has none left.
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(takeIdle(`127.0.0.1:${s.port}`)).toBeNull();
    } finally {
      closeIdleConnections();
      s.stop(true);
    }
  });

  test("an attempt that gets no answer gives up after attemptTimeoutMs", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const why = await probe(`http://127.0.0.1:${silent.port}/health`, AbortSignal.timeout(5000), 50);
      expect(why).toContain("timed out");
    } finally {
      closeIdleConnections();
      silent.stop(true);
    }
  });
});
