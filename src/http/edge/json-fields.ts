/**
 * Reads chosen top-level fields of a JSON object without parsing the rest:
 * values that are not asked for are stepped over (strings by a native search
 * for their closing quote), so a body of megabytes (a base64 image, a long
 * prompt) costs no decoded copy and no object tree. What llama-swap does with
 * gjson, with the same limit: only the structure that leads to the fields is
 * checked, not what is stepped over.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const decoder = new TextDecoder();

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function skipSpace(b: Uint8Array, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** Index just past the string that opens at `i` (a quote), or -1 when it never closes. */
function endOfString(b: Uint8Array, i: number): number {
  let j = i;
  for (;;) {
    j = b.indexOf(QUOTE, j + 1);
    if (j < 0) return -1;
    let slashes = 0;
    while (b[j - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return j + 1;
  }
}

/** Index just past the value that starts at `i`, or -1 when it is cut short. */
function endOfValue(b: Uint8Array, i: number): number {
  const first = b[i];
  if (first === QUOTE) return endOfString(b, i);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const c = b[j];
      if (c === QUOTE) {
        j = endOfString(b, j) - 1;
        if (j < 0) return -1;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  while (j < b.length && b[j] !== COMMA && b[j] !== CLOSE_OBJECT && b[j] !== CLOSE_ARRAY && !isSpace(b[j])) j++;
  return j > i ? j : -1;
}

function parseSlice(b: Uint8Array, start: number, end: number): unknown {
  return JSON.parse(decoder.decode(b.subarray(start, end)));
}

/**
 * The fields of `names` found at the top level of the JSON object in `bytes`
 * (the last one wins when a key repeats, as `JSON.parse` does), each value
 * parsed; null when `bytes` does not read as an object up to its end (the
 * caller parses it whole for the precise error). Values not asked for are
 * not validated.
 *
 * @example
 * ```ts
 * topLevelFields(new TextEncoder().encode('{"model":"m","messages":[]}'), ["model"]); // Map { "model" => "m" }
 * ```
 */
export function topLevelFields(bytes: Uint8Array, names: readonly string[]): Map<string, unknown> | null {
  const out = new Map<string, unknown>();
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_OBJECT) return null;
  i = skipSpace(bytes, i + 1);
  if (bytes[i] === CLOSE_OBJECT) return skipSpace(bytes, i + 1) === bytes.length ? out : null;
  try {
    for (;;) {
      if (bytes[i] !== QUOTE) return null;
      const keyEnd = endOfString(bytes, i);
      if (keyEnd < 0) return null;
      const key = parseSlice(bytes, i, keyEnd) as string;
      i = skipSpace(bytes, keyEnd);
      if (bytes[i] !== COLON) return null;
      i = skipSpace(bytes, i + 1);
      const valueEnd = endOfValue(bytes, i);
      if (valueEnd < 0) return null;
      if (names.includes(key)) out.set(key, parseSlice(bytes, i, valueEnd));
      i = skipSpace(bytes, valueEnd);
      if (bytes[i] === COMMA) {
        i = skipSpace(bytes, i + 1);
        continue;
      }
      if (bytes[i] !== CLOSE_OBJECT) return null;
      return skipSpace(bytes, i + 1) === bytes.length ? out : null;
    }
  } catch {
    // A key or a wanted value that is not valid JSON.
    return null;
  }
}
