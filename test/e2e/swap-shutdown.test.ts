/**
 * Graceful shutdown through the real `modelswap serve` on the real clock
 * (cli.test.ts covers a stream that finishes in time and the second signal):
 * what happens when `shutdownTimeout` passes, and upstreams that resist.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { cleanupSwapServers, fake, groupMembers, lastEventData, openStream, pgidOf, startSwapServer, waitGroupGone } from "./swap-harness.ts";

const tmp = tempDir("modelswap-swap-shutdown-");
afterEach(cleanupSwapServers);
afterAll(tmp.remove);

test("at shutdownTimeout open streams end with an SSE error event, waiters get 503, every model (starting ones too) stops, exit 0", async () => {
  // Test hooks only for the event stream: these upstreams exit on SIGTERM, so the manual clock never has to move.
  const ms = await startSwapServer(tmp, {
    top: "shutdownTimeout: 1\ngroups:\n  side: { swap: true, exclusive: false, members: [slow] }",
    models: { endless: "--tokens 100000 --token-interval 20ms", next: "--tokens 1", slow: "--start-delay 60s" },
  });
  const stream = await openStream(await ms.chat("endless", { stream: true }));
  const since = await ms.lastSeq();
  // A waiter for a model still starting, and one for a model that cannot start while `endless` is busy.
  const waiters = [ms.chat("slow"), ms.chat("next")];
  await ms.waitEvent((e) => e.kind === "inflight" && e.model === "slow" && e.queued === 1, since);
  await ms.waitEvent((e) => e.kind === "inflight" && e.model === "next" && e.queued === 1, since);
  const groups = await Promise.all(["endless", "slow"].map((m) => ms.group(m)));
  ms.proc.proc.kill("SIGTERM");
  await ms.proc.waitForOutput(/draining/);
  // Stops accepting at once.
  expect(await fetch(`${ms.url}/health`).then(() => "answered", () => "refused")).toBe("refused");
  const { text, error } = await stream.rest;
  expect(error).toBeNull(); // an event, not a TCP reset
  expect(lastEventData(text).error?.code).toBe("shutting_down");
  for (const res of await Promise.all(waiters)) {
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
  }
  expect(await ms.proc.waitForExit()).toBe(0);
  for (const pgid of groups) expect(groupMembers(pgid)).toEqual([]);
  expect(ms.allModelPids()).toEqual([]);
});

test.each([["SIGTERM"], ["SIGINT"]] as const)("%s kills upstreams that ignore SIGTERM after their unloadTimeout, forked children included; exit 0", async (signal) => {
  const ms = await startSwapServer(tmp, {
    hooks: false,
    top: "logToStdout: both\ngroups:\n  all:\n    swap: false\n    members: [stubborn, wrapped]",
    models: {
      stubborn: { args: "--ignore-sigterm", yaml: "unloadTimeout: 1" },
      wrapped: { cmd: `sh -c '${fake("--ignore-sigterm")} & wait'`, yaml: "unloadTimeout: 1" },
    },
  });
  for (const model of ["stubborn", "wrapped"]) {
    const res = await ms.chat(model);
    expect(`${res.status} ${await res.text()}`).toStartWith("200 ");
  }
  const groups = ["stubborn", "wrapped"].map((m) => pgidOf(ms.pids(m)[0]!)!);
  ms.proc.proc.kill(signal);
  // Both saw SIGTERM and ignored it (upstream output is printed with logToStdout: both).
  await ms.proc.waitForOutput(/ignoring SIGTERM[\s\S]*ignoring SIGTERM/);
  expect(await ms.proc.waitForExit()).toBe(0);
  for (const pgid of groups) await waitGroupGone(pgid, 1000);
  expect(ms.allModelPids()).toEqual([]);
});

test("a second signal forces the kill of upstreams still inside their unloadTimeout, forked children included", async () => {
  const ms = await startSwapServer(tmp, {
    hooks: false,
    top: "logToStdout: both\ngroups:\n  all:\n    swap: false\n    members: [stubborn, wrapped]",
    models: {
      stubborn: { args: "--ignore-sigterm", yaml: "unloadTimeout: 60" },
      wrapped: { cmd: `sh -c '${fake("--ignore-sigterm")} & wait'`, yaml: "unloadTimeout: 60" },
    },
  });
  for (const model of ["stubborn", "wrapped"]) {
    const res = await ms.chat(model);
    expect(`${res.status} ${await res.text()}`).toStartWith("200 ");
  }
  const groups = ["stubborn", "wrapped"].map((m) => pgidOf(ms.pids(m)[0]!)!);
  ms.proc.proc.kill("SIGTERM");
  await ms.proc.waitForOutput(/ignoring SIGTERM[\s\S]*ignoring SIGTERM/);
  ms.proc.proc.kill("SIGTERM");
  expect(await ms.proc.waitForExit()).toBe(1);
  for (const pgid of groups) await waitGroupGone(pgid, 1000);
  expect(ms.allModelPids()).toEqual([]);
});
