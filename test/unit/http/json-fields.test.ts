/**
 * Top-level fields of a JSON object read without parsing the rest
 * (src/http/edge/json-fields.ts), and how a large inference body is read
 * with it (src/http/edge/body.ts).
 */
import { describe, expect, test } from "bun:test";
import { topLevelFields } from "../../../src/http/edge/json-fields.ts";
import { parseModelJson, SCAN_FROM_BYTES } from "../../../src/http/edge/body.ts";
import { HttpError } from "../../../src/http/errors.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const fields = (s: string, names: string[] = ["model", "stream", "keep_alive"]) => {
  const m = topLevelFields(enc(s), names);
  return m === null ? null : Object.fromEntries(m);
};

describe("topLevelFields", () => {
  test("reads the fields asked for, parsed, and only those", () => {
    expect(fields('{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":5}')).toEqual({ model: "m", stream: true });
    expect(fields(' \n{ "model" : "m" , "keep_alive" : "5m" }\t\n')).toEqual({ model: "m", keep_alive: "5m" });
    expect(fields("{}")).toEqual({});
  });

  test("steps over strings with escaped quotes and backslashes, and brackets inside strings", () => {
    const s = JSON.stringify({ a: 'x"}]{[\\', b: { c: ["\\\\", '"', "}"], d: { e: '\\"' } }, model: "after", z: "\\" });
    expect(fields(s)).toEqual({ model: "after" });
  });

  test("a key escaped in the body is matched by its value; a nested key of the same name is not", () => {
    expect(fields('{"mo\\u0064el":"m"}')).toEqual({ model: "m" });
    expect(fields('{"messages":[{"model":"inner"}],"x":{"model":"inner2"}}')).toEqual({});
  });

  test("a repeated key: the last one wins, as in JSON.parse", () => {
    expect(fields('{"model":"a","model":"b"}')).toEqual(JSON.parse('{"model":"a","model":"b"}'));
  });

  test.each([
    ["an array", "[1,2]"],
    ["text after the object", '{"model":"m"} x'],
    ["a second object", '{"model":"m"}{}'],
    ["an unterminated string", '{"model":"m","x":"abc'],
    ["an unclosed array", '{"model":"m","x":[1,2'],
    ["a missing colon", '{"model" "m"}'],
    ["a trailing comma", '{"model":"m",}'],
    ["a wanted value that is not JSON", '{"model":"m","stream":tru}'],
    ["no object at all", ""],
  ])("%s reads as nothing (null: the caller parses it whole for the error)", (_name, body) => {
    expect(fields(body)).toBeNull();
  });

  test("a value not asked for is not validated", () => {
    expect(fields('{"x":01,"y":[nul],"model":"m"}')).toEqual({ model: "m" });
  });

  test("agrees with JSON.parse on the top-level fields of generated objects", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const strings = ["", "plain", 'q"uote', "back\\slash", "}{][", "ünï\u00e7ødé", "\n\t", "emoji 🦙", "\\\"\\"];
    const value = (depth: number): unknown => {
      const k = Math.floor(rnd() * (depth > 2 ? 4 : 6));
      if (k === 0) return pick(strings);
      if (k === 1) return Math.floor(rnd() * 1e6) / 100 - 5000;
      if (k === 2) return pick([true, false, null]);
      if (k === 3) return pick(strings) + pick(strings);
      if (k === 4) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [pick([...strings, "model", "stream"]), value(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const obj = Object.fromEntries(Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => [pick(["model", "stream", "keep_alive", "messages", ...strings]), value(0)]));
      const text = JSON.stringify(obj, null, pick([0, 1, "\t"]));
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const want = Object.fromEntries(["model", "stream", "keep_alive"].filter((k) => Object.hasOwn(parsed, k)).map((k) => [k, parsed[k]]));
      expect(fields(text)).toEqual(want);
    }
  });
});

/** A body of at least SCAN_FROM_BYTES: `fields` then a long filler string. */
const large = (head: string, tail = "") => `{${head}"messages":[{"role":"user","content":"${"x".repeat(SCAN_FROM_BYTES)}"}]${tail}}`;

function httpError(f: () => unknown): HttpError {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error("expected an HttpError");
}

describe("parseModelJson on a large body", () => {
  test("reads model, stream and keep_alive from the top level; the whole object only when asked, once", () => {
    const body = parseModelJson(enc(large('"model":"m","stream":true,"keep_alive":"5m",')));
    expect(body.model).toBe("m");
    expect(body.stream).toBe(true);
    expect(body.keepAlive).toEqual({ value: "5m" });
    const whole = body.object();
    expect(whole.model).toBe("m");
    expect(body.object()).toBe(whole);
  });

  test("what lies inside the values is not checked: the model server judges it (a small body with the same fault is a 400)", () => {
    const bad = '"model":"m","x":[01],';
    expect(parseModelJson(enc(large(bad))).model).toBe("m");
    expect(httpError(() => parseModelJson(enc(`{${bad}"y":1}`))).code).toBe("invalid_json");
  });

  test.each([
    ["no model", '"stream":true,', "missing_model", "Cannot route request: missing 'model' key"],
    ["a model that is not a string", '"model":7,', "invalid_model", "Cannot route request: 'model' must be a string"],
    ["an empty model", '"model":"",', "invalid_model", "Cannot route request: 'model' must not be empty"],
  ])("%s is the same 400 as for a small body", (_name, head, code, message) => {
    const big = httpError(() => parseModelJson(enc(large(head))));
    const small = httpError(() => parseModelJson(enc(`{${head}"messages":[]}`)));
    expect([big.code, big.message]).toEqual([code, message]);
    expect([small.code, small.message]).toEqual([code, message]);
  });

  test("a large body that is not an object, or is cut short, gets the whole parse's 400", () => {
    expect(httpError(() => parseModelJson(enc(large('"model":"m",', "]")))).code).toBe("invalid_json");
    expect(httpError(() => parseModelJson(enc(`[${large('"model":"m",')}]`))).code).toBe("invalid_request");
  });

  test("a filter that needs the object gets a 400 when the body is not JSON after all", () => {
    const body = parseModelJson(enc(large('"model":"m","x":[01],')));
    expect(httpError(() => body.object()).code).toBe("invalid_json");
  });
});
