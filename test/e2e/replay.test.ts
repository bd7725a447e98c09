/**
 * Record and replay: `--record FILE` writes every input of the scheduler core
 * while real processes run; `modelswap replay FILE` feeds them to a fresh core
 * and `--check` proves it decides the same, so a race seen once becomes a
 * test case. An edited recording must be caught (exit 1, the event named).
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { tempDir } from "../helpers/configs.ts";
import { cleanupProcesses, runModelswap } from "../helpers/processes.ts";
import { hooksConfig, startWithHooks, type Hooked } from "./test-hooks-harness.ts";

const tmp = tempDir("modelswap-replay-");
afterEach(cleanupProcesses);
afterAll(tmp.remove);

type Line = { kind: "init"; now: number; config: { models: Record<string, { ttl: number }> } } | { kind: "event"; event: { type: string } } | { kind: "effects"; random: number[]; effects: Array<{ type: string }> };

const readLines = (file: string): Line[] =>
  readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
const writeLines = (file: string, lines: Line[]) => writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");

/** A session with swaps, a TTL unload, a crash and a restart delay (jitter drawn), then a graceful stop. */
async function recordSession(name: string, hooks: boolean): Promise<string> {
  const record = `${tmp.path}/${name}.jsonl`;
  const { yaml } = hooksConfig({ a: { ttl: 60 }, b: {}, crash: { cmd: "sh -c 'exit 3'" } });
  const ms = await startWithHooks(tmp.write(`${name}.yaml`, yaml), [...(hooks ? ["--test-hooks"] : []), "--record", record]);
  await play(ms, hooks);
  await ms.proc.stop();
  return record;
}

async function play(ms: Hooked, hooks: boolean): Promise<void> {
  const ok = async (model: string) => expect((await ms.chat(model)).status).toBe(200);
  await ok("a");
  await ok("b");
  await Promise.all([ok("a"), ok("a")]);
  expect((await ms.chat("crash")).status).toBe(502);
  // The next request waits out the restart delay (1 s, jitter drawn), then the start fails again.
  const since = hooks ? await ms.lastSeq() : 0;
  const again = ms.chat("crash");
  if (hooks) {
    await ms.waitEvent(since, (e) => e.kind === "request" && e.model === "crash" && e.action === "queued");
    await ms.advance(1100);
  }
  expect((await again).status).toBe(502);
  await ok("b");
  if (!hooks) return;
  await ms.fetch("/test/models/b/kill", { method: "POST" }); // a crash while ready
  await ok("a");
  await ms.advance(60_000); // a's TTL
}

describe("modelswap replay", () => {
  test.each([
    ["with --test-hooks (manual clock)", true],
    ["on the real clock", false],
  ])("a session recorded %s replays with 0 mismatches", async (name, hooks) => {
    const record = await recordSession(name.replace(/\W+/g, "-"), hooks);
    const lines = readLines(record);
    expect(lines[0]!.kind).toBe("init");
    const events = lines.filter((l) => l.kind === "event").length;
    expect(events).toBeGreaterThan(10);
    expect(lines.filter((l) => l.kind === "effects").length).toBe(events);
    expect(lines.some((l) => l.kind === "effects" && l.random.length > 0)).toBe(true); // backoff jitter was drawn and recorded

    const r = await runModelswap(["replay", record, "--check"]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 0,
      stdout: `${record}: ${events} events replayed, 0 mismatches\n`,
      stderr: "",
    });
  });

  test("two runs recorded to the same file (records append) replay each from its own start", async () => {
    const first = await recordSession("twice", true);
    const second = await recordSession("twice", true);
    expect(second).toBe(first);
    const lines = readLines(first);
    expect(lines.filter((l) => l.kind === "init").length).toBe(2);
    const r = await runModelswap(["replay", first, "--check"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toEndWith(" 0 mismatches\n");
  });

  test("without --check it prints each event with the decisions, then the summary", async () => {
    const record = await recordSession("print", true);
    const r = await runModelswap(["replay", record]);
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split("\n");
    const summary = out.pop();
    expect(summary).toMatch(/events replayed, 0 mismatches$/);
    const decisions = out.map((l) => JSON.parse(l) as { event: { type: string }; effects: Array<{ type: string }> });
    expect(decisions[0]).toMatchObject({ event: { type: "request", model: "a" }, effects: expect.arrayContaining([expect.objectContaining({ type: "start", model: "a" })]) });
    expect(decisions.map((d) => d.event.type)).toEqual(expect.arrayContaining(["request", "started", "release", "startFailed", "tick", "exited", "shutdown"]));
  });

  test.each([
    [
      "a recorded decision changed",
      (lines: Line[]) => {
        const i = lines.findIndex((l) => l.kind === "effects" && l.effects.some((e) => e.type === "grant"));
        const l = lines[i] as Extract<Line, { kind: "effects" }>;
        l.effects = l.effects.filter((e) => e.type !== "grant");
      },
    ],
    [
      "the recorded config's TTL changed",
      (lines: Line[]) => {
        (lines[0] as Extract<Line, { kind: "init" }>).config.models.a!.ttl = 30;
      },
    ],
  ])("a recording with %s fails --check with exit 1 and names the event", async (name, edit) => {
    const record = await recordSession(`edited-${name.replace(/\W+/g, "-")}`, true);
    const lines = readLines(record);
    edit(lines);
    writeLines(record, lines);
    const r = await runModelswap(["replay", record, "--check"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/events replayed, [1-9]\d* mismatches\n$/);
    expect(r.stderr).toMatch(/^mismatch: event \{.*\}\n  recorded: .*\n  replayed: /);
  });

  test("a file that is not a recording fails with exit 1 and says why", async () => {
    const r = await runModelswap(["replay", tmp.write("junk.jsonl", "not json\n"), "--check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("modelswap: cannot replay");
  });
});
