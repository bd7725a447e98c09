/**
 * A/B of two modelswaps on streamed answers (two source trees, or one tree
 * with two environments), for one change at a time beside `bench/ab.ts`:
 *
 * - `ttfb`: time to first byte and total of a 20-token stream (5 ms apart),
 *   in runs of 10 streams as `npm run bench` sends them, A and B alternating
 *   which goes first, with the upstream reached directly as the reference;
 *   prints the medians and the median of the paired differences B − A.
 * - `cpu`: CPU of the modelswap process per streamed token, with `--concurrent`
 *   streams of 200 tokens 2 ms apart at once, runs alternating.
 * - `kb`: RSS per open stream with `--streams` held open (a fresh modelswap
 *   per sample, so one sample's memory does not carry into the next).
 *
 *   ./node_modules/.bin/bun bench/stream-ab.ts [--a DIR] [--b DIR] [--a-env K=V ...] [--b-env K=V ...]
 *       [--measure ttfb,cpu,kb] [--streams-per-side 60] [--concurrent 200] [--runs 6] [--streams 6000]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { envOf, SIDE_OPTIONS } from "./ab-sides.ts";
import { type Child, freePort, installCleanup, processTicks, rssKb, start, stop, waitHttp } from "./children.ts";
import { median, openStreams, streamTimings } from "./probes.ts";

const { values: opts } = parseArgs({
  options: {
    ...SIDE_OPTIONS,
    measure: { type: "string", default: "ttfb,cpu,kb" },
    "streams-per-side": { type: "string", default: "60" },
    concurrent: { type: "string", default: "200" },
    runs: { type: "string", default: "6" },
    streams: { type: "string", default: "6000" },
  },
});

const SIDES = { A: { root: opts.a, env: envOf(opts["a-env"]) }, B: { root: opts.b, env: envOf(opts["b-env"]) } } as const;
type Side = keyof typeof SIDES;
const tmp = mkdtempSync(join(tmpdir(), "modelswap-stream-ab-"));
let seq = 0;

/** Starts one side's modelswap with one streaming model (`fake-upstream` flags as given). */
async function startSide(side: Side, upstreamFlags: string): Promise<{ child: Child; url: string }> {
  const { root, env } = SIDES[side];
  const name = `${side}${seq++}`;
  const port = freePort();
  const up = freePort();
  const cfg = join(tmp, `${name}.yaml`);
  const model = [`    cmd: \${MODELSWAP} fake-upstream --port ${up} ${upstreamFlags}`, `    proxy: http://127.0.0.1:${up}`, "    ttl: 0", "    concurrencyLimit: 20000"];
  writeFileSync(cfg, ["healthCheckTimeout: 30", "sendLoadingState: false", "models:", "  s:", ...model, ""].join("\n"));
  const argv = [process.execPath, join(resolve(root), "src/main.ts"), "--config", cfg, "--listen", `127.0.0.1:${port}`, "--state-dir", join(tmp, `${name}-state`)];
  const child = start(name, argv, join(tmp, `${name}.log`), env);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(child, `${url}/v1/models`, 20_000);
  return { child, url };
}

const order = (i: number): Side[] => (i % 2 === 0 ? ["A", "B"] : ["B", "A"]);
const fmt = (v: number[], d = 3) => `median ${median(v).toFixed(d)} (${[...v].sort((x, y) => x - y).map((x) => x.toFixed(d)).join(" ")})`;

async function ttfb(): Promise<void> {
  const flags = "--tokens 20 --token-interval 5ms";
  const sides = { A: await startSide("A", flags), B: await startSide("B", flags) };
  const directPort = freePort();
  const direct = start("direct", [process.execPath, join(resolve(opts.a), "src/main.ts"), "fake-upstream", "--port", String(directPort), ...flags.split(" ")], join(tmp, "direct.log"));
  const directUrl = `http://127.0.0.1:${directPort}`;
  await waitHttp(direct, `${directUrl}/health`, 15_000, (s) => s === 200);
  // Warm every path (its JIT included) before anything is timed.
  for (const url of [sides.A.url, sides.B.url, directUrl]) for (let k = 0; k < 4; k++) await Promise.all(Array.from({ length: 50 }, () => streamTimings(url, "s", 1)));
  const first: Record<Side | "direct", number[]> = { A: [], B: [], direct: [] };
  const total: Record<Side, number[]> = { A: [], B: [] };
  const diff: number[] = [];
  const rounds = Math.max(1, Math.round(Number(opts["streams-per-side"]) / 10));
  for (let i = 0; i < rounds; i++) {
    const got: Record<Side, number[]> = { A: [], B: [] };
    for (const side of order(i)) {
      for (let j = 0; j < 10; j++) {
        const t = await streamTimings(sides[side].url, "s", 1);
        got[side].push(t.ttfbMs);
        total[side].push(t.totalMs);
      }
    }
    for (let j = 0; j < 10; j++) first.direct.push((await streamTimings(directUrl, "s", 1)).ttfbMs);
    first.A.push(...got.A);
    first.B.push(...got.B);
    for (let j = 0; j < 10; j++) diff.push(got.B[j]! - got.A[j]!);
  }
  const d = median(first.direct);
  console.log(`ttfb ms: direct ${d.toFixed(3)}  A ${median(first.A).toFixed(3)} (+${(median(first.A) - d).toFixed(3)})  B ${median(first.B).toFixed(3)} (+${(median(first.B) - d).toFixed(3)})`);
  console.log(`ttfb B − A, paired: median ${median(diff).toFixed(3)} ms, B sooner in ${diff.filter((x) => x < 0).length}/${diff.length}`);
  console.log(`stream total ms: A ${median(total.A).toFixed(2)}  B ${median(total.B).toFixed(2)}`);
  for (const s of [sides.A.child, sides.B.child, direct]) await stop(s);
}

/** Reads one streamed completion to its end. */
async function drain(url: string): Promise<void> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "s", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  for await (const _ of res.body!) {
    // every chunk is read, none kept
  }
}

async function cpu(): Promise<void> {
  const tokens = 200;
  const sides = { A: await startSide("A", `--tokens ${tokens} --token-interval 2ms`), B: await startSide("B", `--tokens ${tokens} --token-interval 2ms`) };
  const n = Number(opts.concurrent);
  const run = async (side: Side): Promise<number> => {
    const pid = sides[side].child.pid;
    const before = processTicks([pid]);
    await Promise.all(Array.from({ length: n }, () => drain(sides[side].url)));
    return ((processTicks([pid]) - before) * 10_000) / (n * tokens);
  };
  await run("A");
  await run("B");
  const got: Record<Side, number[]> = { A: [], B: [] };
  for (let i = 0; i < Number(opts.runs); i++) for (const side of order(i)) got[side].push(await run(side));
  console.log(`CPU µs per streamed token (${n} concurrent streams): A ${fmt(got.A, 1)}  B ${fmt(got.B, 1)}`);
  await stop(sides.A.child);
  await stop(sides.B.child);
}

async function kb(): Promise<void> {
  const n = Number(opts.streams);
  const got: Record<Side, number[]> = { A: [], B: [] };
  for (let i = 0; i < Math.max(1, Math.round(Number(opts.runs) / 2)); i++) {
    for (const side of order(i)) {
      const s = await startSide(side, "--tokens 1000 --token-interval 1s");
      (await openStreams(s.url, "s", 200, 60_000)).close();
      // The warm-up's streams end as their sockets close: measure from a state with none open.
      await waitHttp(s.child, `${s.url}/v1/models`, 5_000);
      const before = rssKb(s.child.pid);
      const open = await openStreams(s.url, "s", n, 300_000);
      const after = rssKb(s.child.pid);
      open.close();
      if (open.opened < n) console.log(`${side}: only ${open.opened}/${n} streams opened (raise 'ulimit -n')`);
      got[side].push((after - before) / Math.max(1, open.opened));
      await stop(s.child);
    }
  }
  console.log(`KB per open stream (${n} streams): A ${fmt(got.A, 2)}  B ${fmt(got.B, 2)}`);
}

installCleanup();
const parts = new Set(opts.measure.split(",").map((s) => s.trim()));
if (parts.has("ttfb")) await ttfb();
if (parts.has("cpu")) await cpu();
if (parts.has("kb")) await kb();
process.exit(0);
