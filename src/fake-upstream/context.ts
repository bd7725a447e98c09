/**
 * What every fake endpoint needs to answer one request: the echo, the model
 * name, the tokens to produce and the pacing/crash settings.
 */
import type { Echo } from "./echo.ts";
import type { PacedOptions } from "./stream.ts";

export interface ReplyContext {
  echo: Echo;
  /** `--model`, else the request's `model`, else "fake-model". */
  model: string;
  /** The completion, one string per token. */
  tokens: string[];
  /** Pacing for streams; `crashAfter` counts chunks. */
  pacing: PacedOptions;
  /** Non-null: this response must crash after sending part of itself. */
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
export function fakeTokens(n: number): string[] {
  return Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]!);
}

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
