import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { poll } from "../../../src/lib/async.ts";
import { readLines } from "../../../src/supervisor/read-lines.ts";
import { type Clock, ManualClock, RealClock } from "../../../src/lib/clock.ts";
import { ModelProcess, type ProcessSpec, StartFailure } from "../../../src/supervisor/model-process.ts";
import { recordPath } from "../../../src/supervisor/pid-record.ts";
import { groupMembers, isAlive, readProcStat } from "../../../src/supervisor/process-tree.ts";
import { BUN, FIXTURES, freePort, spec, tempStateDir, waitFor, waitGone, waitGroupGone, removeTempDirs } from "./helpers.ts";

afterAll(removeTempDirs);

const never = () => new AbortController().signal;

const created: ModelProcess[] = [];

function make(s: ProcessSpec, clock: Clock = new RealClock()) {
  const lines: string[] = [];
  const p = new ModelProcess(s, { onLog: (l) => lines.push(l) }, clock);
  created.push(p);
  return { p, lines };
}

// Every test leaves no process behind: each group it spawned is empty by the end.
afterEach(() => {
  const left = created.splice(0).flatMap((p) => (p.pid === null ? [] : groupMembers(p.pid)));
  for (const pid of left) process.kill(pid, "SIGKILL");
  expect(left).toEqual([]);
});

/** A view of whether `p` has settled yet, for asserting that something has NOT happened (no waiting). */
function track(p: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  p.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}

/** test/fixtures/health-server.ts, answering 503 to its first `failChecks` health checks. */
function healthServer(failChecks: number): ProcessSpec {
  const port = freePort();
  return spec({
    model: "llama/health 1",
    argv: [BUN, join(FIXTURES, "health-server.ts")],
    env: { PORT: String(port), HEALTHY_AFTER_CHECKS: String(failChecks) },
    checkUrl: `http://127.0.0.1:${port}/health`,
  });
}

/** How many health checks the fixture server has answered. */
async function checksSeen(s: ProcessSpec): Promise<number> {
  const res = await fetch(s.checkUrl!.replace(/\/health$/, "/checks"));
  return ((await res.json()) as { checks: number }).checks;
}

describe("ModelProcess.start", () => {
  test("polls /health until it turns 200 and resolves on that first 200, with the server leading its own process group", async () => {
    const s = healthServer(3);
    const { p } = make(s);
    await p.start(AbortSignal.timeout(10_000));
    expect(await checksSeen(s)).toBe(4); // three 503s, one 200, and no check after it

    const pid = p.pid!;
    const stat = readProcStat(pid)!;
    expect(stat.pgrp).toBe(pid);
    expect(stat.session).toBe(pid);

    const record = JSON.parse(readFileSync(recordPath(s.stateDir, p.pid!), "utf8"));
    expect(record).toMatchObject({ pid, pgid: pid, startTime: stat.startTime, model: s.model, argv: s.argv });

    await p.stop(5000);
    expect(isAlive(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
    expect(existsSync(recordPath(s.stateDir, p.pid!))).toBe(false);
  });

  test("without checkUrl resolves as soon as the process is spawned", async () => {
    const { p } = make(spec({ argv: ["sleep", "1000"] }));
    await p.start(never());
    expect(isAlive(p.pid!)).toBe(true);
    expect(await p.stop(5000)).toEqual({ code: null, signal: "SIGTERM" });
    await waitGroupGone(p.pid!);
  });

  test("rejects at once with exit code and output tail when the process exits before it is healthy", async () => {
    const s = spec({
      argv: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; echo boom >&2; exit 3"],
      checkUrl: `http://127.0.0.1:${freePort()}/health`,
    });
    const { p, lines } = make(s);
    const error = await p.start(AbortSignal.timeout(30_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartFailure);
    const failure = error as StartFailure;
    expect(failure.reason).toBe("exited");
    expect(failure.exit).toEqual({ code: 3, signal: null });
    expect(failure.message).toContain("exit code 3");
    expect(failure.message).toContain("boom");
    expect(failure.tail).toHaveLength(10);
    expect(failure.tail).toContain("boom");
    expect(failure.tail).not.toContain("line 1");
    expect(lines).toContain("line 1");
    expect(await p.exited).toEqual({ code: 3, signal: null });
    await p.stop(1000);
    await waitGroupGone(p.pid!);
    expect(existsSync(recordPath(s.stateDir, p.pid!))).toBe(false);
  });

  test("rejects with reason 'spawn' when the executable does not exist", async () => {
    const { p } = make(spec({ argv: ["modelswap-no-such-binary-7f3a"] }));
    const error = (await p.start(never()).catch((e: unknown) => e)) as StartFailure;
    expect(error).toBeInstanceOf(StartFailure);
    expect(error.reason).toBe("spawn");
    expect(error.exit).toBeNull();
    expect(error.message).toContain("modelswap-no-such-binary-7f3a");
    expect(p.pid).toBeNull();
    expect(await p.exited).toEqual({ code: null, signal: null });
    expect(await p.stop(1000)).toEqual({ code: null, signal: null });
  });

  test("healthFail keeps start pending until the signal aborts with its reason", async () => {
    const s = healthServer(0);
    const { p } = make(s);
    // Count the rounds in which the poller asked the override (and was told to fail).
    let overridden = 0;
    Object.defineProperty(p, "healthFail", { get: () => (overridden++, true) });
    const ctl = new AbortController();
    const starting = p.start(ctl.signal);
    const state = track(starting);
    await waitFor(() => (overridden >= 3 ? true : undefined));
    // The poller never connects while healthFail holds, so on a busy machine the server may still be starting: wait until it answers.
    const status = await poll(() => fetch(s.checkUrl!).then((r) => r.status, () => undefined), 20, { signal: AbortSignal.timeout(10_000) });
    expect(status).toBe(200); // the server itself is healthy
    expect(state.settled).toBe(false);
    const reason = new Error("health deadline");
    ctl.abort(reason);
    expect(await starting.catch((e: unknown) => e)).toBe(reason);
    await p.stop(5000);
    await waitGroupGone(p.pid!);
  });

  test("rejects with the reason without spawning when the signal is already aborted", async () => {
    const { p } = make(spec({ argv: ["sleep", "1000"] }));
    expect(await p.start(AbortSignal.abort("gone")).catch((e: unknown) => e)).toBe("gone");
    expect(p.pid).toBeNull();
  });

  test("captures stdout and stderr line by line, including a last line without newline", async () => {
    const { p, lines } = make(spec({ argv: ["sh", "-c", "printf 'a\\r\\nb\\n'; echo $FOO >&2; printf 'partial'"], env: { FOO: "from-env" } }));
    await p.start(never());
    await p.exited;
    await waitFor(() => (lines.includes("partial") ? true : undefined));
    expect(lines.toSorted()).toEqual(["a", "b", "from-env", "partial"]);
    expect(p.tail(2)).toHaveLength(2);
    await p.stop(1000);
  });
});

describe("ModelProcess.stop", () => {
  test("SIGTERMs the group and leaves nothing a forking wrapper started", async () => {
    const s = spec({ argv: ["sh", "-c", "sleep 1000 & wait"] });
    const { p } = make(s);
    await p.start(never());
    const pgid = p.pid!;
    const members = await waitFor(() => (groupMembers(pgid).length === 2 ? groupMembers(pgid) : undefined));
    const stopping = p.stop(5000);
    expect(p.stop(5000)).toBe(stopping);
    expect(await stopping).toEqual({ code: null, signal: "SIGTERM" });
    for (const pid of members) expect(isAlive(pid)).toBe(false);
    expect(groupMembers(pgid)).toEqual([]);
    expect(existsSync(recordPath(s.stateDir, p.pid!))).toBe(false);
  });

  test("SIGKILLs a SIGTERM-ignoring group only once the grace period passed on the clock", async () => {
    const clock = new ManualClock();
    // The child ignores SIGTERM; the shell says when one arrived, and ignores it too.
    const script = "trap '' TERM; sleep 1000 & trap 'echo got TERM' TERM; echo ready; while :; do wait; done";
    const { p, lines } = make(spec({ argv: ["sh", "-c", script] }), clock);
    await p.start(never());
    await waitFor(() => (lines.includes("ready") ? true : undefined));
    const members = groupMembers(p.pid!);
    expect(members).toHaveLength(2);
    const stopping = p.stop(5000);
    const state = track(stopping);
    await waitFor(() => (lines.includes("got TERM") ? true : undefined));
    for (const pid of members) expect(isAlive(pid)).toBe(true);
    expect(state.settled).toBe(false);
    clock.advance(4999);
    expect(clock.pending).toBe(1); // the SIGKILL is due at 5000 on the clock, not before
    for (const pid of members) expect(isAlive(pid)).toBe(true);
    clock.advance(1);
    expect(await stopping).toEqual({ code: null, signal: "SIGKILL" });
    for (const pid of members) expect(isAlive(pid)).toBe(false);
  });

  test("runs cmdStop with ${PID} substituted and then terminates what the server forked", async () => {
    const clock = new ManualClock();
    const { p, lines } = make(
      spec({ argv: ["sh", "-c", "sleep 1000 & wait"], stopArgv: ["sh", "-c", "echo stopping $0; kill -TERM $0", "${PID}"] }),
      clock,
    );
    await p.start(never());
    const pgid = p.pid!;
    const members = await waitFor(() => (groupMembers(pgid).length === 2 ? groupMembers(pgid) : undefined));
    expect(await p.stop(60_000)).toEqual({ code: null, signal: "SIGTERM" });
    expect(lines).toContain(`stopping ${pgid}`);
    for (const pid of members) expect(isAlive(pid)).toBe(false);
    expect(clock.pending).toBe(0);
  });

  test("SIGKILLs the group at once when cmdStop fails", async () => {
    const { p } = make(spec({ argv: ["sleep", "1000"], stopArgv: ["sh", "-c", "exit 1"] }), new ManualClock());
    await p.start(never());
    expect(await p.stop(60_000)).toEqual({ code: null, signal: "SIGKILL" });
    await waitGone([p.pid!]);
  });

  test("SIGKILLs the group when cmdStop succeeds but the server outlives the grace period", async () => {
    const clock = new ManualClock();
    const { p, lines } = make(spec({ argv: ["sleep", "1000"], stopArgv: ["sh", "-c", "echo stopper $$"] }), clock);
    await p.start(never());
    const stopping = p.stop(3000);
    const state = track(stopping);
    const stopper = await waitFor(() => lines.find((l) => l.startsWith("stopper "))?.split(" ")[1]);
    await waitGone([Number(stopper)]); // cmdStop ran and succeeded …
    expect(clock.pending).toBe(1); // … and the grace timer still runs
    expect(isAlive(p.pid!)).toBe(true);
    expect(state.settled).toBe(false);
    clock.advance(3000);
    expect(await stopping).toEqual({ code: null, signal: "SIGKILL" });
  });

  test("before start resolves without a process, and start then refuses", async () => {
    const { p } = make(spec({ argv: ["sleep", "1000"] }));
    expect(await p.stop(1000)).toEqual({ code: null, signal: null });
    await expect(p.start(never())).rejects.toThrow("Cannot start model 'm': it was stopped before it started");
    expect(p.pid).toBeNull();
  });
});

describe("ModelProcess.kill", () => {
  test("SIGKILLs the whole group like a crash and removes the pid record", async () => {
    const s = spec({ argv: ["sh", "-c", "sleep 1000 & wait"] });
    const { p } = make(s);
    await p.start(never());
    const pgid = p.pid!;
    const members = await waitFor(() => (groupMembers(pgid).length === 2 ? groupMembers(pgid) : undefined));
    p.kill();
    expect(await p.exited).toEqual({ code: null, signal: "SIGKILL" });
    await waitGone(members);
    await waitFor(() => (existsSync(recordPath(s.stateDir, p.pid!)) ? undefined : true));
    expect(await p.stop(1000)).toEqual({ code: null, signal: "SIGKILL" });
  });

  test("after a crash, what the server forked is killed too", async () => {
    const { p, lines } = make(spec({ argv: ["sh", "-c", "sleep 1000 & echo forked; wait"] }));
    await p.start(never());
    await waitFor(() => (lines.includes("forked") ? true : undefined));
    const pgid = p.pid!;
    const members = groupMembers(pgid);
    process.kill(pgid, "SIGKILL"); // the main process alone dies
    expect(await p.exited).toEqual({ code: null, signal: "SIGKILL" });
    await waitGone(members);
    await p.stop(1000);
  });
});

describe("ModelProcess.stop never hangs and leaves nothing", () => {
  test("kills a grandchild that left the group with setsid (it carries the spawn token)", async () => {
    const { p, lines } = make(spec({ argv: ["sh", "-c", "setsid sleep 1000 & echo forked $!; wait"] }));
    await p.start(never());
    const escaped = Number(await waitFor(() => lines.find((l) => l.startsWith("forked "))?.split(" ")[1]));
    await waitFor(() => (readProcStat(escaped)?.pgrp === escaped ? true : undefined)); // its own group now
    expect(await p.stop(5000)).toEqual({ code: null, signal: "SIGTERM" });
    expect(isAlive(escaped)).toBe(false);
  });

  test("a process still there 5 s (on the clock) after SIGKILL is reported unkillable and the stop goes on", async () => {
    const clock = new ManualClock();
    // A server stuck in uninterruptible sleep cannot be made on demand: this view never sees it go.
    let stuck = 0;
    let looks = 0;
    const view = { groupMembers: () => (looks++, [stuck]), describe: (pids: readonly number[]) => `pid ${pids[0]} in state D` };
    const s = spec({ argv: ["sleep", "1000"] });
    const p = new ModelProcess(s, { onLog: () => undefined }, clock, view);
    created.push(p);
    await p.start(never());
    stuck = p.pid!;
    const stopping = p.stop(1000);
    const state = track(stopping);
    clock.advance(1000); // grace over: SIGKILL
    await waitGone([p.pid!]); // the real process is gone; the view says otherwise
    clock.advance(4999);
    // Three more looks at the group: the stop asked whether to give up after the advance and went on polling
    // (giving up would look once more, to describe what is stuck, and then never again).
    const seen = looks;
    await waitFor(() => (looks >= seen + 3 ? true : undefined));
    expect(state.settled).toBe(false);
    clock.advance(1);
    expect(await stopping).toEqual({ code: null, signal: "SIGTERM", problem: `unkillable: pid ${stuck} in state D` });
    expect(existsSync(recordPath(s.stateDir, stuck))).toBe(false);
  });

  test("a server run as another user (EPERM) makes the stop end at once with 'permission denied; use cmdStop', never an exception", async () => {
    if (process.getuid?.() !== 0) return; // making a server this process cannot signal needs root to set up
    const dir = tempStateDir();
    chmodSync(dir, 0o755);
    const rootpriv = join(dir, "rootpriv");
    copyFileSync(Bun.which("setpriv")!, rootpriv);
    chmodSync(rootpriv, 0o4755);
    const state = join(dir, "state");
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, 65534, 65534);
    const proc = Bun.spawn({
      cmd: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BUN, join(FIXTURES, "denied-signal.ts"), rootpriv, state],
      env: { ...process.env, HOME: dir },
      stdout: "pipe",
      stderr: "inherit",
    });
    const lines: string[] = [];
    const output = readLines(proc.stdout, (l) => lines.push(l));
    let server = 0;
    try {
      server = Number(await waitFor(() => lines.find((l) => l.startsWith("pid "))?.slice(4), 10_000));
      expect(await proc.exited).toBe(0);
      await output;
      const result = JSON.parse(lines.find((l) => l.startsWith("result "))!.slice(7));
      expect(result.problem).toBe(`cannot signal pid ${server}: permission denied; use cmdStop`);
      expect(isAlive(server)).toBe(true); // it was not ours to stop: reported, not hidden
    } finally {
      proc.kill("SIGKILL");
      if (server > 0 && isAlive(server)) process.kill(server, "SIGKILL");
      if (server > 0) await waitGone([server]);
    }
  }, 20_000);
});

