/**
 * `--test-hooks` and the manual clock against real model processes: TTL,
 * health-check deadline and restart backoff fire exactly when
 * `POST /test/clock/advance` moves time past them, never in real time, and
 * `/test/settle` tells a script when the consequences are over.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { poll } from "../../src/lib/async.ts";
import { cleanupProcesses, findPids, isGone } from "../helpers/processes.ts";
import { becomes, hooksConfig, startWithHooks } from "./test-hooks-harness.ts";

const tmp = tempDir("modelswap-hooks-clock-");
afterEach(cleanupProcesses);
afterAll(tmp.remove);

/** Error body code of a modelswap error response. */
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("the manual clock", () => {
  test("starts at 0 and moves only when advanced, however much real time passes", async () => {
    const { yaml } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write("clock.yaml", yaml));
    expect(await (await ms.fetch("/test/clock")).json()).toEqual({ now: 0 });
    const since = await ms.lastSeq();
    expect((await ms.chat("a")).status).toBe(200); // a real process started and answered meanwhile
    expect(await (await ms.fetch("/test/clock")).json()).toEqual({ now: 0 });
    expect(await ms.advance(1234)).toEqual({ now: 1234, settled: true });
    expect(await (await ms.fetch("/test/clock")).json()).toEqual({ now: 1234 });
    const clockEvents = (await ms.eventsSince(since)).filter((e) => e.event.kind === "clock");
    expect(clockEvents.map((e) => e.event)).toEqual([{ kind: "clock", now: 1234 }]);
  });

  test("drives the TTL: a model idle for ttl seconds is unloaded, not a millisecond earlier", async () => {
    const { yaml, ports } = hooksConfig({ a: { ttl: 60 } });
    const ms = await startWithHooks(tmp.write("ttl.yaml", yaml));
    expect((await ms.chat("a")).status).toBe(200);
    expect((await ms.settle()).status).toBe(200);
    const [pid] = findPids(`--port ${ports.a}`);
    expect(await ms.advance(59_999)).toEqual({ now: 59_999, settled: true });
    expect(await ms.running()).toMatchObject([{ model: "a", state: "ready" }]);
    const since = await ms.lastSeq();
    expect(await ms.advance(1)).toEqual({ now: 60_000, settled: true });
    // advance returned after the stop finished: nothing left to wait for.
    expect(await ms.running()).toEqual([]);
    expect(isGone(pid!)).toBe(true);
    const states = (await ms.eventsSince(since)).flatMap((e) => (e.event.kind === "modelState" ? [e.event.state] : []));
    expect(states).toEqual(["stopping", "stopped"]);
  });

  test("drives the health-check deadline: a model that never gets healthy fails with 504 at healthCheckTimeout", async () => {
    const { yaml, ports } = hooksConfig({ sick: { args: "--health-fail" } });
    const ms = await startWithHooks(tmp.write("health-timeout.yaml", yaml));
    const since = await ms.lastSeq();
    const reply = ms.chat("sick");
    await ms.waitEvent(since, becomes("sick", "starting"));
    const pid = await waitForPid(`--port ${ports.sick}`);
    expect(await ms.advance(14_999, "0ms")).toMatchObject({ now: 14_999, settled: false, pending: expect.arrayContaining(["sick is starting"]) });
    expect(await ms.running()).toMatchObject([{ model: "sick", state: "starting" }]);
    expect(await ms.advance(1)).toEqual({ now: 15_000, settled: true });
    const res = await reply;
    expect(res.status).toBe(504);
    expect(await errorCode(res)).toBe("health_timeout");
    expect(isGone(pid)).toBe(true);
    // Not running any more, and not hidden either: /running says why and that it waits to retry.
    expect(await ms.running()).toMatchObject([{ model: "sick", state: "backoff", error: expect.stringContaining("not healthy within 15 s") }]);
  });

  test("drives restart backoff: 503 with Retry-After until the clock passes it, then a new start", async () => {
    const { yaml } = hooksConfig({ crash: { cmd: "sh -c 'exit 3'" } });
    const ms = await startWithHooks(tmp.write("backoff.yaml", yaml));
    const since = await ms.lastSeq();

    const first = await ms.chat("crash");
    expect(first.status).toBe(502);
    expect(await errorCode(first)).toBe("start_failed");
    expect((await ms.settle()).status).toBe(200);

    const refused = await ms.chat("crash");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("1"); // 1 s backoff, minus up to 20 % jitter
    expect(await errorCode(refused)).toBe("backoff");

    await ms.advance(1000);
    const second = await ms.chat("crash");
    expect(second.status).toBe(502); // started again: the backoff was over
    expect((await ms.settle()).status).toBe(200);
    const again = await ms.chat("crash");
    expect(again.status).toBe(503);
    expect(again.headers.get("Retry-After")).toBe("2"); // doubled
    await again.body?.cancel();

    const starts = (await ms.eventsSince(since)).filter((e) => becomes("crash", "starting")(e.event));
    expect(starts.length).toBe(2);
  });
});

describe("GET /test/settle", () => {
  test("answers 200 at once when nothing is in progress", async () => {
    const { yaml } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write("settle-idle.yaml", yaml));
    expect(await ms.settle()).toEqual({ status: 200, body: { settled: true } });
    expect((await ms.chat("a")).status).toBe(200);
    expect(await ms.settle()).toEqual({ status: 200, body: { settled: true } });
  });

  test("answers 408 with what is pending when the timeout passes first", async () => {
    const { yaml } = hooksConfig({ sick: { args: "--health-fail" } });
    const ms = await startWithHooks(tmp.write("settle-pending.yaml", yaml));
    const since = await ms.lastSeq();
    const gone = new AbortController();
    const reply = ms.chat("sick", gone.signal).catch(() => null);
    await ms.waitEvent(since, becomes("sick", "starting"));
    const r = await ms.settle("50ms");
    expect(r.status).toBe(408);
    expect(r.body.settled).toBe(false);
    expect(r.body.pending).toEqual(expect.arrayContaining(["swap to sick in progress", "sick is starting"]));
    gone.abort();
    await reply;
  });

  test("rejects a timeout that is not a duration with 400", async () => {
    const { yaml } = hooksConfig({ a: {} });
    const ms = await startWithHooks(tmp.write("settle-bad.yaml", yaml));
    const res = await ms.fetch("/test/settle?timeout=soon");
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_timeout");
  });
});

/** The pid of the one live process whose command line contains `needle`, once it exists. */
function waitForPid(needle: string): Promise<number> {
  return poll(() => findPids(needle)[0], 10, { signal: AbortSignal.timeout(10_000) });
}
