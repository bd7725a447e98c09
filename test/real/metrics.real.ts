/**
 * Token metrics from llama-server's own `timings` feeding modelswap's
 * activity data (`/api/metrics/activity`, `/metrics`): what a request's row
 * says is what llama-server measured, for plain, streamed and native answers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { poll } from "../../src/lib/async.ts";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, type SwapServer, startSwapServer } from "../e2e/swap-harness.ts";
import { chatBody, llamaCmd, postJson, realEnv } from "./harness.ts";

const tmp = tempDir("modelswap-real-metrics-");
let ms: SwapServer;

beforeAll(async () => {
  const env = await realEnv();
  ms = await startSwapServer(tmp, { hooks: false, models: { alpha: { cmd: llamaCmd(env, "alpha") } } });
});
afterAll(() => finishSwapFile(ms, tmp));

interface Timings {
  prompt_n: number;
  predicted_n: number;
  prompt_per_second: number;
  predicted_per_second: number;
}
interface Row {
  id: number;
  req_path: string;
  resp_status_code: number;
  tokens: { input_tokens: number; output_tokens: number; prompt_per_second: number; tokens_per_second: number };
}

/** The `timings` of the last SSE chunk that has them. */
function streamTimings(text: string): Timings {
  const chunks = text.split("\n\n").map((f) => f.trim().replace(/^data: /, "")).filter((d) => d.startsWith("{"));
  const last = chunks.map((d) => JSON.parse(d) as { timings?: Timings }).findLast((c) => c.timings);
  if (!last?.timings) throw new Error(`Cannot find timings in the stream: ${text.slice(-300)}`);
  return last.timings;
}

test("each request's activity row carries llama-server's timings: tokens and speeds as it measured them", async () => {
  const warm = await postJson(`${ms.url}/v1/chat/completions`, chatBody("alpha", { maxTokens: 1 }));
  expect(warm.status).toBe(200);
  await warm.text();

  const plain = (await (await postJson(`${ms.url}/v1/chat/completions`, chatBody("alpha", { maxTokens: 7 }))).json()) as { timings: Timings };
  const streamed = streamTimings(await (await postJson(`${ms.url}/v1/chat/completions`, chatBody("alpha", { stream: true, maxTokens: 5 }))).text());
  const native = (await (await postJson(`${ms.url}/completion`, JSON.stringify({ model: "alpha", prompt: "The sky is", n_predict: 3 }))).json()) as { timings: Timings };
  const expected = [plain.timings, streamed, native.timings];
  expect(expected.map((t) => t.predicted_n)).toEqual([7, 5, 3]);

  const rows = await poll(async () => {
    const page = (await (await fetch(`${ms.url}/api/metrics/activity?model=alpha&limit=50`)).json()) as { data: Row[] };
    return page.data.length >= 4 ? page.data : undefined;
  }, 20, { signal: AbortSignal.timeout(10_000) });
  for (const t of expected) {
    const row = rows.find((r) => r.tokens.output_tokens === t.predicted_n);
    expect(row?.resp_status_code).toBe(200);
    expect(row?.tokens).toMatchObject({
      input_tokens: t.prompt_n,
      output_tokens: t.predicted_n,
      prompt_per_second: t.prompt_per_second,
      tokens_per_second: t.predicted_per_second,
    });
  }
  expect(rows.find((r) => r.tokens.output_tokens === 3)?.req_path).toBe("/completion");

  const prom = await (await fetch(`${ms.url}/metrics`)).text();
  const generated = prom.match(/^modelswap_tokens_total\{[^}]*model="alpha"[^}]*kind="generated"[^}]*\} (\d+)/m) ?? prom.match(/^modelswap_tokens_total\{[^}]*kind="generated"[^}]*model="alpha"[^}]*\} (\d+)/m);
  expect(Number(generated?.[1])).toBe(1 + 7 + 5 + 3);
});
