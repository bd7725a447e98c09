/**
 * llama-server's own endpoints through modelswap: its native `/completion`
 * and `/infill`, `/props?model=`, OpenAI embeddings from a model started with
 * `--embeddings`, and anything else under `/upstream/<model>/…` (`/props`,
 * `/tokenize`, `/detokenize`, `/slots`, `/health`, `/metrics`), plus the web
 * UI page llama-server serves there, gzip-only (a stand-in page embedded by
 * the build script: the real UI is not in the source bundle).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, type SwapServer, startSwapServer } from "../e2e/swap-harness.ts";
import { llamaCmd, postJson, type RealEnv, realEnv, report } from "./harness.ts";

const tmp = tempDir("modelswap-real-endpoints-");
let env: RealEnv;
let ms: SwapServer;

beforeAll(async () => {
  env = await realEnv();
  ms = await startSwapServer(tmp, {
    hooks: false,
    top: "groups:\n  all:\n    swap: false\n    members: [alpha, embed]",
    models: {
      alpha: { cmd: llamaCmd(env, "alpha", { extra: "--metrics" }) },
      embed: { cmd: llamaCmd(env, "beta", { alias: "embed", extra: "--embeddings --pooling mean" }) },
    },
  });
});
afterAll(() => finishSwapFile(ms, tmp));

const json = async <T>(res: Response): Promise<T> => {
  const text = await res.text();
  expect(`${res.status} ${text.slice(0, 300)}`).toStartWith("200 ");
  return JSON.parse(text) as T;
};

describe("llama-server's endpoints on modelswap's routes", () => {
  test("POST /completion (llama-server's native API) answers with content and timings", async () => {
    const body = await json<{ content: string; tokens_predicted: number; timings: { predicted_n: number } }>(
      await postJson(`${ms.url}/completion`, JSON.stringify({ model: "alpha", prompt: "The sky is", n_predict: 6 })),
    );
    expect(body.content.length).toBeGreaterThan(0);
    expect(body.tokens_predicted).toBe(6);
    expect(body.timings.predicted_n).toBe(6);
  });

  test("POST /completion with stream: true streams llama-server's native chunks to stop: true", async () => {
    const res = await postJson(`${ms.url}/completion`, JSON.stringify({ model: "alpha", prompt: "The sky is", n_predict: 4, stream: true }));
    expect(res.status).toBe(200);
    const chunks = (await res.text()).split("\n\n").filter((f) => f.startsWith("data: ")).map((f) => JSON.parse(f.slice(6)) as { content: string; stop: boolean });
    expect(chunks.at(-1)?.stop).toBe(true);
    expect(chunks.filter((c) => !c.stop)).toHaveLength(4);
  });

  test("POST /infill (fill-in-the-middle tokens are in the generated model) answers", async () => {
    const body = await json<{ content: string; tokens_predicted: number }>(
      await postJson(`${ms.url}/infill`, JSON.stringify({ model: "alpha", input_prefix: "def add(a, b):\n    return ", input_suffix: "\n", n_predict: 3 })),
    );
    expect(body.tokens_predicted).toBe(3);
  });

  test("GET /props?model=alpha is llama-server's /props", async () => {
    const props = await json<{ total_slots: number; model_alias?: string; default_generation_settings: { n_ctx: number } }>(
      await fetch(`${ms.url}/props?model=alpha`),
    );
    expect(props.total_slots).toBe(1);
    expect(props.default_generation_settings.n_ctx).toBe(256);
  });

  test("POST /v1/embeddings on a model started with --embeddings: one 64-dimensional vector per input", async () => {
    const body = await json<{ data: Array<{ embedding: number[]; index: number }>; model: string }>(
      await postJson(`${ms.url}/v1/embeddings`, JSON.stringify({ model: "embed", input: ["hello world", "goodbye"] })),
    );
    expect(body.data.map((d) => [d.index, d.embedding.length])).toEqual([[0, 64], [1, 64]]);
    expect(body.model).toBe("embed");
  });
});

describe("/upstream/<model>/… reaches llama-server as it is", () => {
  test("/props, /health, /v1/models", async () => {
    const props = await json<{ total_slots: number }>(await fetch(`${ms.url}/upstream/alpha/props`));
    expect(props.total_slots).toBe(1);
    expect(await json<{ status: string }>(await fetch(`${ms.url}/upstream/alpha/health`))).toEqual({ status: "ok" });
    const models = await json<{ data: Array<{ id: string }> }>(await fetch(`${ms.url}/upstream/alpha/v1/models`));
    expect(models.data.map((m) => m.id)).toEqual(["alpha"]);
  });

  test("/tokenize and /detokenize round-trip text through the llama-spm vocabulary", async () => {
    const { tokens } = await json<{ tokens: number[] }>(await postJson(`${ms.url}/upstream/alpha/tokenize`, JSON.stringify({ content: "Hello world" })));
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const { content } = await json<{ content: string }>(await postJson(`${ms.url}/upstream/alpha/detokenize`, JSON.stringify({ tokens })));
    expect(content.trim()).toBe("Hello world");
  });

  test("/slots lists llama-server's slots", async () => {
    const slots = await json<Array<{ id: number; n_ctx: number; is_processing: boolean }>>(await fetch(`${ms.url}/upstream/alpha/slots`));
    expect(slots.map((s) => [s.id, s.n_ctx, s.is_processing])).toEqual([[0, 256, false]]);
  });

  test("/metrics (llama-server started with --metrics) is Prometheus text", async () => {
    const res = await fetch(`${ms.url}/upstream/alpha/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain("llamacpp:prompt_tokens_total");
  });

  test("the web UI page at /upstream/alpha/ arrives gzip-encoded as llama-server sent it, and decompresses to the page", async () => {
    const res = await fetch(`${ms.url}/upstream/alpha/`, { headers: { "accept-encoding": "gzip" }, decompress: false });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    const gz = new Uint8Array(await res.arrayBuffer());
    expect([...gz.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const html = gunzipSync(gz).toString("utf8");
    expect(html).toContain("llama-server UI stand-in");
    report("llama-server web UI page through /upstream/alpha/ (gzip bytes, html bytes)", [gz.byteLength, html.length]);
    // A browser-style fetch (decompressing) gets the same page.
    const plain = await fetch(`${ms.url}/upstream/alpha/`);
    expect(await plain.text()).toBe(html);
  });

  test("a client that does not accept gzip gets llama-server's own 415, passed through", async () => {
    const res = await fetch(`${ms.url}/upstream/alpha/`, { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(415);
    expect(await res.text()).toBe("Error: gzip is not supported by this browser");
  });
});
