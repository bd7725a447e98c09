/**
 * Token counts from a JSON answer's bytes without parsing the answer: a byte
 * search from the end for its last `usage` and `timings` keys, and only the
 * objects after them decoded and parsed (OpenAI, Anthropic, the Responses
 * API and llama-server all put them last, after the output). Server-only
 * (Buffer's native search); the shapes and the folding are `tokens.ts`'s.
 */
import { type Json, obj, type ParsedTokens, parseJson, tokensFromJson, tokensOf } from "./tokens.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Buffer's native byte search from the end, on any Uint8Array (no Buffer view to make, no decode). */
const lastIndexOfBytes = Buffer.prototype.lastIndexOf as (this: Uint8Array, value: Uint8Array, byteOffset?: number) => number;
/** The keys tokens are read from, quoted, as bytes (a string needle is encoded on every search: ~4 × slower). */
const USAGE_KEY = encoder.encode('"usage"');
const TIMINGS_KEY = encoder.encode('"timings"');

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * Index just past the JSON object that opens at `start`, or -1 when `bytes`
 * ends inside it. Bytes of multi-byte UTF-8 characters are all ≥ 0x80, so
 * none is mistaken for a quote, backslash or brace.
 */
function objectEnd(bytes: Uint8Array, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 92) i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The object value of the last key `key` (quoted, as bytes) in a JSON
 * fragment, parsed; only that object is decoded. Null when the key is there
 * but no object follows it, undefined when the key is not there at all. Only
 * a real key matches: inside a string a quote is escaped, so `"usage":` in
 * model output reads `\"usage\":` and is skipped.
 */
function lastObjectOf(bytes: Uint8Array, key: Uint8Array): Json | null | undefined {
  let at = bytes.length;
  // The last few occurrences: a key whose value is not an object (`"usage":null`) is passed over.
  for (let tries = 0; tries < 4 && at > 0; tries++) {
    at = lastIndexOfBytes.call(bytes, key, at - 1);
    if (at < 0) return tries === 0 ? undefined : null;
    if (at > 0 && bytes[at - 1] === 92) continue;
    let i = at + key.length;
    while (isSpace(bytes[i]!)) i++;
    if (bytes[i] !== 58) continue; // ':'
    i++;
    while (isSpace(bytes[i]!)) i++;
    if (bytes[i] !== 123) continue; // '{'
    const end = objectEnd(bytes, i);
    const value = end < 0 ? undefined : obj(parseJson(decoder.decode(bytes.subarray(i, end))));
    if (value) return value;
  }
  return null;
}

/** Tokens from the last `usage` and `timings` objects in `bytes` (a JSON body or its end), or null when it holds neither. */
export function tokensFromJsonTailBytes(bytes: Uint8Array): ParsedTokens | null {
  return tokensOf([{ usage: lastObjectOf(bytes, USAGE_KEY), timings: lastObjectOf(bytes, TIMINGS_KEY) }]);
}

/**
 * Tokens from the end of a JSON body (its last `usage` and `timings`
 * objects), or null when that text holds neither. Why: OpenAI, Anthropic,
 * the Responses API and llama-server all put them last, after the output,
 * and an embeddings answer can be megabytes of numbers before them.
 *
 * @example
 * ```ts
 * tokensFromJsonTail('3,0.4]}],"usage":{"prompt_tokens":8,"total_tokens":8}}')?.tokens.input_tokens; // 8
 * ```
 */
export function tokensFromJsonTail(text: string): ParsedTokens | null {
  return tokensFromJsonTailBytes(encoder.encode(text));
}

/**
 * Tokens from a whole JSON body as bytes: its last `usage` and `timings`
 * objects, found by a byte search from the end, with only those objects
 * decoded and parsed; a body with neither key reports nothing. When the keys
 * are there but no object follows them (`"usage":null`), the whole body is
 * parsed (`tokensFromJson`). Why: parsing a whole small answer to read one
 * object was the largest single allocation of a proxied request (measured
 * at 64 connections with `bench/alloc.ts`); on a 473 KB embeddings answer
 * the search from the end takes ~15 µs where the whole parse took ~1.2 ms
 * (`bench/finish-cost.ts`).
 */
export function tokensFromJsonBody(bytes: Uint8Array): ParsedTokens | null {
  const usage = lastObjectOf(bytes, USAGE_KEY);
  const timings = lastObjectOf(bytes, TIMINGS_KEY);
  if (usage === undefined && timings === undefined) return null;
  return tokensOf([{ usage, timings }]) ?? tokensFromJson(decoder.decode(bytes));
}
