/**
 * OpenAI Responses API (`POST /v1/responses`), with the typed SSE events
 * (`response.created` … `response.completed`) the OpenAI SDK reads when
 * `stream: true`.
 */
import { bodyObject } from "./echo.ts";
import { countPromptTokens, reply, responseId, type ReplyContext } from "./context.ts";
import { framesOf, paced, sseEvent, SSE_HEADERS } from "./stream.ts";

/** POST /v1/responses. */
export function responses(ctx: ReplyContext): Response {
  const body = bodyObject(ctx.echo);
  const id = responseId("resp");
  const itemId = responseId("msg");
  const input_tokens = countPromptTokens(body.input);
  const text = ctx.tokens.join("");
  const usage = { input_tokens, output_tokens: ctx.tokens.length, total_tokens: input_tokens + ctx.tokens.length };
  const part = (t: string) => ({ type: "output_text", text: t, annotations: [] });
  const item = (status: string, content: unknown[]) => ({ id: itemId, type: "message", role: "assistant", status, content });
  const response = (status: string, output: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model: ctx.model,
    status,
    output,
    ...extra,
  });
  if (body.stream !== true) {
    return reply(ctx, { ...response("completed", [item("completed", [part(text)])], { usage }), echo: ctx.echo });
  }
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => () => sseEvent(type, { type, sequence_number: seq++, ...data });
  const head = [
    ev("response.created", { response: response("in_progress", []), echo: ctx.echo }),
    ev("response.output_item.added", { output_index: 0, item: item("in_progress", []) }),
    ev("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part: part("") }),
  ];
  const token = (i: number) => ev("response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta: ctx.tokens[i]! })();
  const tail = [
    ev("response.output_text.done", { item_id: itemId, output_index: 0, content_index: 0, text }),
    ev("response.content_part.done", { item_id: itemId, output_index: 0, content_index: 0, part: part(text) }),
    ev("response.output_item.done", { output_index: 0, item: item("completed", [part(text)]) }),
    ev("response.completed", { response: response("completed", [item("completed", [part(text)])], { usage }) }),
  ];
  const chunks = framesOf(head, ctx.tokens.length, token, tail);
  const crashAfter = ctx.crashing ? 3 + Math.max(1, Math.ceil(ctx.tokens.length / 2)) : null;
  return new Response(paced(chunks, { ...ctx.pacing, crashAfter }), { headers: SSE_HEADERS });
}
