/**
 * What every real-server test file needs: the llama-server binary built by
 * `scripts/real-server/build-llama-server.sh` (cached outside the repo), the
 * tiny generated models, model `cmd` lines for modelswap's config, and a
 * llama-server started directly (no modelswap) to compare with.
 *
 * `npm run test:real` passes the binary and the models in the environment;
 * run alone (`bun test ./test/real/x.real.ts`), a file asks the build script
 * for the cached binary (a first build takes longer than a test's timeout:
 * run `npm run test:real` once first) and writes the models itself.
 *
 * @example
 * ```ts
 * const env = await realEnv();
 * const ms = await startSwapServer(tmp, { models: { alpha: { cmd: llamaCmd(env, "alpha") } } });
 * ```
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poll } from "../../src/lib/async.ts";
import { REPO_ROOT, type Spawned, freePort, spawnProcess } from "../helpers/processes.ts";
import { generateModels, REAL_MODELS, type RealModel } from "../../scripts/real-server/models.ts";

export type { RealModel };

/** The llama-server binary and the tiny models' files. */
export interface RealEnv {
  llamaServer: string;
  models: Record<RealModel, string>;
}

let env: Promise<RealEnv> | null = null;

/** Builds or finds llama-server and the models once per test process. */
export function realEnv(): Promise<RealEnv> {
  env ??= (async () => {
    let llamaServer = process.env.MODELSWAP_LLAMA_SERVER;
    let vocab = process.env.MODELSWAP_LLAMA_VOCAB;
    if (!llamaServer || !vocab) {
      const build = Bun.spawnSync([`${REPO_ROOT}/scripts/real-server/build-llama-server.sh`], { stderr: "inherit", stdout: "pipe" });
      if (build.exitCode !== 0) throw new Error(`Cannot build llama-server: build-llama-server.sh exited with ${build.exitCode}`);
      const dir = build.stdout.toString().trim().split("\n").at(-1)!;
      llamaServer = `${dir}/bin/llama-server`;
      vocab = `${dir}/vocab/ggml-vocab-llama-spm.gguf`;
    }
    let dir = process.env.MODELSWAP_REAL_MODELS;
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), "modelswap-real-models-"));
      const made = dir;
      process.on("exit", () => rmSync(made, { recursive: true, force: true }));
      await generateModels(vocab, made);
    }
    const models = Object.fromEntries(Object.keys(REAL_MODELS).map((m) => [m, `${dir}/${m}.gguf`])) as Record<RealModel, string>;
    return { llamaServer, models };
  })();
  return env;
}

export interface LlamaCmdOptions {
  /** `-c`: total context, shared by the slots (default 256, the model's own). */
  ctx?: number;
  /** `--parallel` slots (default 1). */
  parallel?: number;
  /** Extra arguments (`--embeddings --pooling mean`). */
  extra?: string;
  /** `--alias` (default the model's config id, so `model` in answers is a name, not a path). */
  alias?: string | null;
}

/** llama-server's arguments for `model` (no port). */
export function llamaArgs(env: RealEnv, model: RealModel, o: LlamaCmdOptions = {}): string[] {
  const alias = o.alias === undefined ? model : o.alias;
  return [
    "--host", "127.0.0.1",
    "-m", env.models[model],
    "-c", String(o.ctx ?? 256),
    "--parallel", String(o.parallel ?? 1),
    "--threads", "1",
    "--no-warmup",
    ...(alias === null ? [] : ["--alias", alias]),
    ...(o.extra ? o.extra.split(" ") : []),
  ];
}

/** A modelswap `cmd` line running llama-server for `model` on `${PORT}`. */
export function llamaCmd(env: RealEnv, model: RealModel, o: LlamaCmdOptions = {}): string {
  return [env.llamaServer, "--port", "${PORT}", ...llamaArgs(env, model, o)].join(" ");
}

/** A llama-server started directly on a free port, with its spawn time. */
export interface DirectServer extends Spawned {
  url: string;
  /** `performance.now()` just before `Bun.spawn`. */
  spawnedAt: number;
}

/** Starts llama-server directly (no modelswap); it is tracked by `cleanupProcesses`. */
export function startDirect(env: RealEnv, model: RealModel, o: LlamaCmdOptions = {}): DirectServer {
  const port = freePort();
  const spawnedAt = performance.now();
  const p = spawnProcess([env.llamaServer, "--port", String(port), ...llamaArgs(env, model, o)]);
  return Object.assign(p, { url: `http://127.0.0.1:${port}`, spawnedAt });
}

/** Polls `url/health` every 5 ms until 200 (llama-server refuses, then answers 503 `Loading model`, then 200). */
export async function waitHealthy(url: string, timeoutMs = 30_000): Promise<{ refused: number; loading: number }> {
  const seen = { refused: 0, loading: 0 };
  await poll(
    async () => {
      try {
        const res = await fetch(`${url}/health`);
        await res.body?.cancel();
        if (res.status === 200) return true;
        if (res.status === 503) seen.loading++;
      } catch {
        seen.refused++;
      }
      return undefined;
    },
    5,
    { signal: AbortSignal.timeout(timeoutMs) },
  );
  return seen;
}

/** A chat request body: a short prompt, `max_tokens` tokens. */
export function chatBody(model: string, o: { stream?: boolean; maxTokens?: number; prompt?: string } = {}): string {
  return JSON.stringify({
    model,
    stream: o.stream ?? false,
    max_tokens: o.maxTokens ?? 8,
    messages: [{ role: "user", content: o.prompt ?? "hello" }],
  });
}

/** POSTs `body` as JSON to `url`. */
export function postJson(url: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, ...(signal ? { signal } : {}) });
}

/** Milliseconds from `from` (a `performance.now()`) until the first body byte of `res`, and the whole text. */
export async function firstByte(res: Promise<Response>, from: number): Promise<{ ms: number; status: number; text: string }> {
  const r = await res;
  const reader = r.body!.getReader();
  const first = await reader.read();
  const ms = performance.now() - from;
  const decoder = new TextDecoder();
  let text = first.done ? "" : decoder.decode(first.value, { stream: true });
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    text += decoder.decode(next.value, { stream: true });
  }
  return { ms, status: r.status, text };
}

/** The content deltas of an OpenAI SSE text joined, and whether it ended with `[DONE]`. */
export function sseContent(text: string): { content: string; done: boolean; events: number } {
  const frames = text.split("\n\n").map((f) => f.trim()).filter(Boolean);
  let content = "";
  let done = false;
  let events = 0;
  for (const f of frames) {
    const data = f.split("\n").find((l) => l.startsWith("data: "))?.slice(6);
    if (data === undefined) continue;
    if (data === "[DONE]") {
      done = true;
      continue;
    }
    events++;
    const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string | null } }> };
    content += chunk.choices?.[0]?.delta?.content ?? "";
  }
  return { content, done, events };
}

/** Prints a measurement so `npm run test:real` shows it (numbers are reported, never asserted). */
export function report(what: string, value: unknown): void {
  console.log(`[real-server] ${what}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
}

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
