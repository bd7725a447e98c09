/**
 * OpenAI-compatible endpoints: chat completions, legacy completions (both
 * streaming and not), embeddings and the model list.
 */
import { bodyObject } from "./echo.ts";
import { countPromptTokens, reply, responseId, type ReplyContext } from "./context.ts";
import { framesOf, paced, sseData, SSE_HEADERS } from "./stream.ts";

const now = (): number => Math.floor(Date.now() / 1000);

function usage(ctx: ReplyContext, prompt: unknown) {
  const prompt_tokens = countPromptTokens(prompt);
  return { prompt_tokens, completion_tokens: ctx.tokens.length, total_tokens: prompt_tokens + ctx.tokens.length };
}

/** POST /v1/chat/completions, and (with `legacy`) /v1/completions. */
export function completion(ctx: ReplyContext, legacy: boolean): Response {
  const body = bodyObject(ctx.echo);
  const prompt = legacy ? body.prompt : body.messages;
  const id = responseId(legacy ? "cmpl" : "chatcmpl");
  const created = now();
  const object = legacy ? "text_completion" : "chat.completion";
  if (body.stream !== true) {
    const content = ctx.tokens.join("");
    const choice = legacy
      ? { index: 0, text: content, logprobs: null, finish_reason: "stop" }
      : { index: 0, message: { role: "assistant", content }, logprobs: null, finish_reason: "stop" };
    return reply(ctx, { id, object, created, model: ctx.model, choices: [choice], usage: usage(ctx, prompt), echo: ctx.echo });
  }
  const chunkObject = legacy ? "text_completion" : "chat.completion.chunk";
  const frame = (index: number, choice: Record<string, unknown>, extra: Record<string, unknown> = {}) => () =>
    sseData({ id, object: chunkObject, created, model: ctx.model, choices: [choice], ...extra, x_fake: { index, sent_at: Date.now() } });
  const delta = (text: string, first: boolean) =>
    legacy ? { index: 0, text, logprobs: null, finish_reason: null } : { index: 0, delta: first ? { role: "assistant", content: text } : { content: text }, logprobs: null, finish_reason: null };
  const n = ctx.tokens.length;
  const token = (i: number) => frame(i, delta(ctx.tokens[i]!, i === 0), i === 0 ? { echo: ctx.echo } : {})();
  const head = n === 0 ? [frame(0, delta("", true), { echo: ctx.echo })] : [];
  const finish = legacy ? { index: 0, text: "", logprobs: null, finish_reason: "stop" } : { index: 0, delta: {}, logprobs: null, finish_reason: "stop" };
  const tail = [frame(Math.max(n, 1), finish)];
  const opts = body.stream_options as { include_usage?: unknown } | undefined;
  if (opts?.include_usage === true) {
    tail.push(() => sseData({ id, object: chunkObject, created, model: ctx.model, choices: [], usage: usage(ctx, prompt) }));
  }
  tail.push(() => sseData("[DONE]"));
  const chunks = framesOf(head, n, token, tail);
  const crashAfter = ctx.crashing ? Math.max(1, Math.ceil(ctx.tokens.length / 2)) : null;
  return new Response(paced(chunks, { ...ctx.pacing, crashAfter }), { headers: SSE_HEADERS });
}

/**
 * POST /v1/embeddings: a deterministic 8-dimensional vector per input; with
 * `encoding_format: "base64"` (the openai SDK's default) each vector is its
 * little-endian float32 bytes in base64, as OpenAI sends it.
 */
export function embeddings(ctx: ReplyContext): Response {
  const body = bodyObject(ctx.echo);
  const input = body.input;
  const base64 = body.encoding_format === "base64";
  const inputs = Array.isArray(input) ? input : [input ?? ""];
  const data = inputs.map((value, index) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    const vector = Array.from({ length: 8 }, (_, d) => (((text.length + 1) * (d + 3)) % 97) / 97);
    return { object: "embedding", index, embedding: base64 ? float32Base64(vector) : vector };
  });
  const prompt_tokens = countPromptTokens(input);
  return reply(ctx, { object: "list", data, model: ctx.model, usage: { prompt_tokens, total_tokens: prompt_tokens }, echo: ctx.echo });
}

/** GET /v1/models. */
export function models(ctx: ReplyContext): Response {
  return reply(ctx, { object: "list", data: [{ id: ctx.model, object: "model", created: now(), owned_by: "fake-upstream" }], echo: ctx.echo });
}

/** `values` as little-endian float32 bytes, in base64. */
export function float32Base64(values: readonly number[]): string {
  const bytes = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => bytes.setFloat32(i * 4, v, true));
  return Buffer.from(bytes.buffer).toString("base64");
}
