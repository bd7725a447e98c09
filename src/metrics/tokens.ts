/**
 * Token counts and speeds from a finished response, in llama-swap's
 * `tokens` shape: `usage` (OpenAI `prompt_tokens`/`completion_tokens`,
 * Anthropic `input_tokens`/`output_tokens`, at `usage`, `response.usage` or
 * `message.usage`) and llama-server's `timings`, which win when present.
 * Streams are read once, at the end, from the events `usage-tail.ts` kept:
 * usage and timings come in the final events.
 */

/** llama-swap's `TokenMetrics`: -1 means "not reported" for cache, drafts and speeds. */
export interface TokenMetrics {
  cache_tokens: number;
  draft_tokens: number;
  draft_acc_tokens: number;
  input_tokens: number;
  output_tokens: number;
  prompt_per_second: number;
  tokens_per_second: number;
}

/** What a response tells: the tokens, and a duration from `timings` when the server measured one. */
export interface ParsedTokens {
  tokens: TokenMetrics;
  /** prompt_ms + predicted_ms from llama-server's timings, or null. */
  timingsMs: number | null;
}

/** Nothing reported. */
export function noTokens(): TokenMetrics {
  return { cache_tokens: -1, draft_tokens: -1, draft_acc_tokens: -1, input_tokens: 0, output_tokens: 0, prompt_per_second: -1, tokens_per_second: -1 };
}

/** A JSON object. */
export type Json = Record<string, unknown>;
/** `v` when it is a JSON object (not an array), else null. */
export const obj = (v: unknown): Json | null => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

interface Acc {
  tokens: TokenMetrics;
  timingsMs: number | null;
  /** Whether any document carried usage or timings. */
  any: boolean;
}

/** Folds one parsed JSON document (a body or an SSE event) into `acc`. */
function fold(doc: unknown, acc: Acc): void {
  const root = Array.isArray(doc) ? doc.at(-1) : doc; // /infill answers are arrays: timings in the last element
  const o = obj(root);
  if (o === null) return;
  for (const usage of [o.usage, obj(o.response)?.usage, obj(o.message)?.usage]) {
    const u = obj(usage);
    if (u === null) continue;
    const input = num(u.prompt_tokens) ?? num(u.input_tokens);
    const output = num(u.completion_tokens) ?? num(u.output_tokens);
    const cached = num(u.cache_read_input_tokens) ?? num(obj(u.input_tokens_details)?.cached_tokens) ?? num(obj(u.prompt_tokens_details)?.cached_tokens);
    if (input === null && output === null && cached === null) continue;
    acc.any = true;
    if (input !== null && input > 0) acc.tokens.input_tokens = input;
    if (output !== null && output > 0) acc.tokens.output_tokens = output;
    if (cached !== null) acc.tokens.cache_tokens = cached;
  }
  const t = obj(o.timings);
  if (t !== null) {
    acc.any = true;
    acc.tokens.input_tokens = num(t.prompt_n) ?? acc.tokens.input_tokens;
    acc.tokens.output_tokens = num(t.predicted_n) ?? acc.tokens.output_tokens;
    acc.tokens.prompt_per_second = num(t.prompt_per_second) ?? -1;
    acc.tokens.tokens_per_second = num(t.predicted_per_second) ?? -1;
    const cache = num(t.cache_n);
    if (cache !== null) acc.tokens.cache_tokens = cache;
    const draft = num(t.draft_n);
    const accepted = num(t.draft_n_accepted);
    if (draft !== null && accepted !== null) {
      acc.tokens.draft_tokens = draft;
      acc.tokens.draft_acc_tokens = accepted;
    }
    acc.timingsMs = (num(t.prompt_ms) ?? 0) + (num(t.predicted_ms) ?? 0);
  }
}

/** `JSON.parse(text)`, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Tokens from a whole JSON body, or null when it reports none.
 *
 * @example
 * ```ts
 * tokensFromJson('{"usage":{"prompt_tokens":5,"completion_tokens":7}}')?.tokens.output_tokens; // 7
 * ```
 */
export function tokensFromJson(body: string): ParsedTokens | null {
  return tokensOf([parseJson(body)]);
}

/** The documents folded in order (the last usage wins), or null when none carried usage or timings. */
export function tokensOf(docs: Iterable<unknown>): ParsedTokens | null {
  const acc: Acc = { tokens: noTokens(), timingsMs: null, any: false };
  for (const doc of docs) fold(doc, acc);
  return acc.any ? { tokens: acc.tokens, timingsMs: acc.timingsMs } : null;
}

/** A streamed body that is not an event stream keeps at most about its last this many bytes for its tokens (`BodyUsageTail`). */
export const JSON_TAIL_BYTES = 16 * 1024;

/**
 * Tokens from the tail of an SSE stream (its last events, possibly starting
 * mid-line: a partial first line is skipped), or null when it reports none.
 * Events are folded in order, so the last usage wins, as in llama-swap.
 *
 * @example
 * ```ts
 * tokensFromSseTail('data: {"choices":[]}\n\ndata: {"usage":{"prompt_tokens":3,"completion_tokens":9}}\n\ndata: [DONE]\n\n');
 * ```
 */
export function tokensFromSseTail(tail: string): ParsedTokens | null {
  const docs: unknown[] = [];
  for (const raw of tail.split("\n")) {
    const line = raw.trim();
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "" || data === "[DONE]" || (data[0] !== "{" && data[0] !== "[")) continue;
    docs.push(parseJson(data));
  }
  return tokensOf(docs);
}
