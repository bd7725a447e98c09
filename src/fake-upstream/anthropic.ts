/**
 * Anthropic Messages API (`POST /v1/messages`), with the named SSE events
 * the Anthropic SDK expects when `stream: true`.
 */
import { bodyObject } from "./echo.ts";
import { countPromptTokens, reply, responseId, type ReplyContext } from "./context.ts";
import { framesOf, paced, sseEvent, SSE_HEADERS } from "./stream.ts";

/** POST /v1/messages. */
export function messages(ctx: ReplyContext): Response {
  const body = bodyObject(ctx.echo);
  const id = responseId("msg");
  const input_tokens = countPromptTokens(body.messages);
  const base = { id, type: "message", role: "assistant", model: ctx.model, stop_sequence: null };
  if (body.stream !== true) {
    const data = {
      ...base,
      content: [{ type: "text", text: ctx.tokens.join("") }],
      stop_reason: "end_turn",
      usage: { input_tokens, output_tokens: ctx.tokens.length },
      echo: ctx.echo,
    };
    return reply(ctx, data);
  }
  const head = [
    () => sseEvent("message_start", { type: "message_start", message: { ...base, content: [], stop_reason: null, usage: { input_tokens, output_tokens: 1 } }, echo: ctx.echo }),
    () => sseEvent("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    () => sseEvent("ping", { type: "ping" }),
  ];
  const token = (i: number) => sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: ctx.tokens[i]! } });
  const tail = [
    () => sseEvent("content_block_stop", { type: "content_block_stop", index: 0 }),
    () => sseEvent("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: ctx.tokens.length } }),
    () => sseEvent("message_stop", { type: "message_stop" }),
  ];
  const chunks = framesOf(head, ctx.tokens.length, token, tail);
  const crashAfter = ctx.crashing ? 3 + Math.max(1, Math.ceil(ctx.tokens.length / 2)) : null;
  return new Response(paced(chunks, { ...ctx.pacing, crashAfter }), { headers: SSE_HEADERS });
}

/** POST /v1/messages/count_tokens. */
export function countTokens(ctx: ReplyContext): Response {
  return reply(ctx, { input_tokens: countPromptTokens(bodyObject(ctx.echo).messages), echo: ctx.echo });
}
