/**
 * Runs wrk against a chat-completions URL and parses its text output, so
 * requests/s and latency percentiles come from the tool everyone trusts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { start, stop } from "./children.ts";

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors. */
  errors: number;
}

/** Writes the Lua script that POSTs a small non-streaming chat completion. */
export function writeWrkScript(tmp: string, model: string): string {
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Say hi" }], max_tokens: 20 });
  const path = join(tmp, `wrk-${model}.lua`);
  writeFileSync(path, `wrk.method = "POST"\nwrk.body = [[${body}]]\nwrk.headers["Content-Type"] = "application/json"\n`);
  return path;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case "us":
      return n / 1000;
    case "ms":
      return n;
    case "s":
      return n * 1000;
    case "m":
      return n * 60_000;
    default:
      throw new Error(`Cannot parse wrk latency unit: '${unit}'`);
  }
}

/** Parses wrk's `--latency` output. */
export function parseWrk(out: string): WrkResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    if (!m) throw new Error(`Cannot parse wrk output: no ${p}% line in\n${out}`);
    return toMs(m[1]!, m[2]!);
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const reqs = /(\d+) requests in/.exec(out);
  if (!rps || !reqs) throw new Error(`Cannot parse wrk output: no Requests/sec in\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps: Number(rps[1]), p50Ms: pct("50"), p99Ms: pct("99"), requests: Number(reqs[1]), errors: non2xx + sockErrors };
}

/** Runs `wrk -tT -cC -dD --latency -s script url` and parses it. */
export async function runWrk(tmp: string, url: string, script: string, connections: number, duration: string): Promise<WrkResult> {
  const threads = connections === 1 ? 1 : 2;
  const logPath = join(tmp, `wrk-${Date.now()}.out`);
  const child = start("wrk", ["wrk", `-t${threads}`, `-c${connections}`, `-d${duration}`, "--latency", "-s", script, url], logPath);
  const code = await child.proc.exited;
  await stop(child);
  const out = await Bun.file(logPath).text();
  if (code !== 0) throw new Error(`Cannot run wrk: exit code ${code}:\n${out}`);
  return parseWrk(out);
}
