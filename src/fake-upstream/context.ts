/**
 * What every fake endpoint needs to answer one request: the echo, the model
 * name, the tokens to produce and the pacing/crash settings.
 */
import type { Echo } from "./echo.ts";
import { paced, type PacedOptions } from "./stream.ts";

export interface ReplyContext {
  echo: Echo;
  /** `--model`, else the request's `model`, else "fake-model". */
  model: string;
  /** The completion, one string per token (shared between requests: never change it). */
  tokens: readonly string[];
  /** Pacing for streams; `crashAfter` counts chunks. */
  pacing: PacedOptions;
  /** True: this response must crash after sending part of itself. */
  crashing: boolean;
}

const WORDS = ["Hello", " from", " the", " fake", " upstream", ",", " one", " token", " at", " a", " time", "."];

/**
 * `n` deterministic tokens; joined they read as a sentence.
 *
 * @example
 * ```ts
 * fakeTokens(3).join(""); // "Hello from the"
 * ```
 */
export function fakeTokens(n: number): readonly string[] {
  let tokens = made.get(n);
  if (tokens === undefined) {
    tokens = Object.freeze(Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]!));
    made.set(n, tokens);
  }
  return tokens;
}

/** One shared array per count: every request of a server asks for the same `--tokens`. */
const made = new Map<number, readonly string[]>();

/** A rough token count of a prompt (words), for usage fields. */
export function countPromptTokens(value: unknown): number {
  const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
  return text.split(/\s+/).filter(Boolean).length;
}

let nextId = 1;

/** A response id with the given prefix (`chatcmpl-fake-3`). */
export function responseId(prefix: string): string {
  return `${prefix}-fake-${nextId++}`;
}

/** A JSON response. */
export function json(data: unknown, status = 200): Response {
  return Response.json(data, { status });
}

/**
 * A JSON reply; when the context is crashing, only its first half is sent
 * before the process exits (a crash in the middle of a response).
 */
export function reply(ctx: ReplyContext, data: unknown): Response {
  if (!ctx.crashing) return json(data);
  const text = JSON.stringify(data);
  const half = text.slice(0, Math.max(1, text.length >> 1));
  return new Response(paced([half], { ...ctx.pacing, crashAfter: 1 }), { headers: { "content-type": "application/json" } });
}
