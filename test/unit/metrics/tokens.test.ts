/** Token counts from usage (JSON or the last SSE events) and llama-server timings. */
import { describe, expect, test } from "bun:test";
import { BodyUsageTail, JSON_TAIL_BYTES, SseUsageTail, tokensFromJson, tokensFromJsonBody, tokensFromJsonTail, tokensFromSseTail } from "../../../src/metrics/index.ts";

const enc = new TextEncoder();

describe("tokensFromJson", () => {
  test.each([
    ["OpenAI usage", { usage: { prompt_tokens: 12, completion_tokens: 34, prompt_tokens_details: { cached_tokens: 4 } } }, { input_tokens: 12, output_tokens: 34, cache_tokens: 4 }],
    ["Anthropic usage", { usage: { input_tokens: 7, output_tokens: 9, cache_read_input_tokens: 2 } }, { input_tokens: 7, output_tokens: 9, cache_tokens: 2 }],
    ["Responses API usage", { response: { usage: { input_tokens: 3, output_tokens: 5 } } }, { input_tokens: 3, output_tokens: 5, cache_tokens: -1 }],
  ])("%s", (_name, body, want) => {
    expect(tokensFromJson(JSON.stringify(body))?.tokens).toMatchObject(want);
  });

  test("llama-server timings win over usage and give speeds and a measured duration", () => {
    const body = { usage: { prompt_tokens: 1, completion_tokens: 1 }, timings: { prompt_n: 20, prompt_ms: 100, prompt_per_second: 200, predicted_n: 50, predicted_ms: 1000, predicted_per_second: 50, cache_n: 8 } };
    expect(tokensFromJson(JSON.stringify(body))).toEqual({
      tokens: { input_tokens: 20, output_tokens: 50, cache_tokens: 8, prompt_per_second: 200, tokens_per_second: 50, draft_tokens: -1, draft_acc_tokens: -1 },
      timingsMs: 1100,
    });
  });

  test("an /infill array reads timings from its last element", () => {
    expect(tokensFromJson(JSON.stringify([{ content: "a" }, { timings: { prompt_n: 2, predicted_n: 3 } }]))?.tokens).toMatchObject({ input_tokens: 2, output_tokens: 3 });
  });

  test.each([["not json"], ['{"choices":[]}'], ["[]"], ['{"usage":{}}']])("%p reports nothing", (body) => {
    expect(tokensFromJson(body)).toBeNull();
  });
});

describe("tokensFromSseTail", () => {
  test("reads usage from the final chunk, skipping [DONE] and a cut first line", () => {
    const tail = 'ent":"x"}}]}\n\ndata: {"choices":[{"delta":{"content":"y"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":17}}\n\ndata: [DONE]\n\n';
    expect(tokensFromSseTail(tail)?.tokens).toMatchObject({ input_tokens: 5, output_tokens: 17 });
  });

  test("Anthropic streams: input in message_start, output in message_delta", () => {
    const tail = [
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":11,"output_tokens":1}}}',
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":42}}',
    ].join("\n\n");
    expect(tokensFromSseTail(tail)?.tokens).toMatchObject({ input_tokens: 11, output_tokens: 42 });
  });

  test("a stream without usage reports nothing", () => {
    expect(tokensFromSseTail('data: {"choices":[]}\n\ndata: [DONE]\n\n')).toBeNull();
  });
});

describe("SseUsageTail", () => {
  const feed = (t: SseUsageTail, parts: string[]) => parts.forEach((p) => t.push(enc.encode(p)));

  test("keeps nothing between plain token events, and counts every byte", () => {
    const t = new SseUsageTail();
    const parts = Array.from({ length: 100 }, (_, i) => `data: {"choices":[{"delta":{"content":"w${i}"}}]}\n\n`);
    feed(t, parts);
    expect(t.total).toBe(parts.join("").length);
    expect(t.text()).toBe("");
  });

  test("keeps the usage event even when it comes in pieces, split inside its key", () => {
    const t = new SseUsageTail();
    feed(t, ['data: {"choices":[]}\n\ndata: {"choices":[],"us', 'age":{"prompt_tokens":5,"completion_tokens":17}}\n', "\ndata: [DONE]\n\n"]);
    expect(tokensFromSseTail(t.text())?.tokens).toMatchObject({ input_tokens: 5, output_tokens: 17 });
  });

  test("Anthropic: both usage events survive a long stream between them", () => {
    const t = new SseUsageTail();
    feed(t, ['event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":11,"output_tokens":1}}}\n\n']);
    feed(t, Array.from({ length: 500 }, () => 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"x"}}\n\n'));
    feed(t, ['event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":42}}\n\n', 'event: message_stop\ndata: {"type":"message_stop"}\n\n']);
    expect(tokensFromSseTail(t.text())?.tokens).toMatchObject({ input_tokens: 11, output_tokens: 42 });
  });

  test("a blank line split between chunks ends the event; a character split between chunks survives", () => {
    const t = new SseUsageTail();
    const bytes = enc.encode('data: {"usage":{"prompt_tokens":1,"completion_tokens":2},"note":"é"}\n\n');
    const cut = bytes.indexOf(0xa9); // inside "é"
    t.push(bytes.subarray(0, cut));
    t.push(bytes.subarray(cut, bytes.length - 1));
    t.push(bytes.subarray(bytes.length - 1));
    t.push(enc.encode('data: {"choices":[]}\n\n'));
    expect(t.text()).toBe('data: {"usage":{"prompt_tokens":1,"completion_tokens":2},"note":"é"}\n\n');
  });

  test("CRLF event boundaries, and llama-server timings", () => {
    const t = new SseUsageTail();
    feed(t, ['data: {"choices":[]}\r\n\r\n', 'data: {"timings":{"prompt_n":3,"predicted_n":4}}\r\n\r\n']);
    expect(tokensFromSseTail(t.text())?.tokens).toMatchObject({ input_tokens: 3, output_tokens: 4 });
  });

  test("keeps only the last few usage events (a server reporting usage in every chunk)", () => {
    const t = new SseUsageTail(2);
    feed(t, Array.from({ length: 50 }, (_, i) => `data: {"usage":{"prompt_tokens":1,"completion_tokens":${i + 1}}}\n\n`));
    expect(t.text().split("\n\n").filter(Boolean)).toHaveLength(2);
    expect(tokensFromSseTail(t.text())?.tokens.output_tokens).toBe(50);
  });

  test("an event longer than the limit is not kept", () => {
    const t = new SseUsageTail(8, 100);
    feed(t, [`data: {"usage":{"prompt_tokens":1,"completion_tokens":2},"pad":"${"x".repeat(200)}"}\n\n`]);
    expect(t.text()).toBe("");
  });

  test("a last event without its blank line is still read", () => {
    const t = new SseUsageTail();
    feed(t, ['data: {"usage":{"prompt_tokens":2,"completion_tokens":3}}']);
    expect(t.tokens()?.tokens).toMatchObject({ input_tokens: 2, output_tokens: 3 });
  });
});

describe("BodyUsageTail", () => {
  test("a small body is kept whole, every byte counted", () => {
    const t = new BodyUsageTail(100);
    for (const s of ['{"usage":', '{"prompt_tokens":1,', '"completion_tokens":2}}']) t.push(enc.encode(s));
    expect(t.tokens()?.tokens).toMatchObject({ input_tokens: 1, output_tokens: 2 });
  });

  test("past the limit its end is kept: the whole chunks that cover the last `max` bytes", () => {
    const t = new BodyUsageTail(4);
    t.push(enc.encode("0123"));
    expect(t.complete).toBe(true);
    t.push(enc.encode("456789"));
    expect(t.total).toBe(10);
    expect(t.complete).toBe(false);
    expect(t.text()).toBe("456789");
    t.push(enc.encode("ab"));
    expect(t.text()).toBe("456789ab");
    t.push(enc.encode("cdef"));
    expect(t.text()).toBe("cdef");
  });

  test("a JSON answer longer than the limit: its usage is read from the end", () => {
    const t = new BodyUsageTail(64);
    t.push(enc.encode('{"object":"list","data":[{"embedding":['));
    for (let i = 0; i < 200; i++) t.push(enc.encode("0.125,"));
    t.push(enc.encode('0.5]}],"usage":{"prompt_tokens":8,"total_tokens":8}}'));
    expect(t.complete).toBe(false);
    expect(tokensFromJson(t.text())).toBeNull(); // the end alone is not a JSON document
    expect(t.tokens()?.tokens).toMatchObject({ input_tokens: 8 });
  });
});

/** An embeddings answer of `n` numbers: far past JSON_TAIL_BYTES for n in the thousands. */
function embeddings(n: number, usage: object): string {
  return JSON.stringify({ object: "list", data: [{ object: "embedding", index: 0, embedding: Array.from({ length: n }, (_, i) => i / 7) }], model: "e5", usage });
}

describe("tokensFromJsonBody: a long answer is searched from its end", () => {
  test("an embeddings answer: the same tokens as parsing it whole", () => {
    const text = embeddings(4000, { prompt_tokens: 8, total_tokens: 8 });
    expect(text.length).toBeGreaterThan(JSON_TAIL_BYTES);
    expect(tokensFromJsonBody(enc.encode(text))).toEqual(tokensFromJson(text));
    expect(tokensFromJsonBody(enc.encode(text))?.tokens.input_tokens).toBe(8);
  });

  test("llama-server's timings after a long answer give its speeds and duration", () => {
    const text = JSON.stringify({ content: "word ".repeat(5000), usage: { prompt_tokens: 1, completion_tokens: 1 }, timings: { prompt_n: 20, prompt_ms: 100, prompt_per_second: 200, predicted_n: 50, predicted_ms: 1000, predicted_per_second: 50 } });
    expect(tokensFromJsonBody(enc.encode(text))).toEqual(tokensFromJson(text));
    expect(tokensFromJsonBody(enc.encode(text))?.timingsMs).toBe(1100);
  });

  test("a usage key in model output (escaped, inside a string) or without an object is passed over", () => {
    const text = '{"usage":{"prompt_tokens":5,"completion_tokens":6},"choices":[{"message":{"content":"the \\"usage\\":{\\"prompt_tokens\\":99} text"}}],"stats":{"usage":null}}';
    expect(JSON.parse(text).choices[0].message.content).toContain('"usage":{"prompt_tokens":99}');
    expect(tokensFromJsonTail(text)?.tokens).toMatchObject({ input_tokens: 5, output_tokens: 6 });
  });

  test("a long answer whose usage comes first is read whole", () => {
    const text = JSON.stringify({ usage: { prompt_tokens: 3, completion_tokens: 4 }, data: "x".repeat(3 * JSON_TAIL_BYTES) });
    expect(tokensFromJsonBody(enc.encode(text))?.tokens).toMatchObject({ input_tokens: 3, output_tokens: 4 });
  });

  test.each([
    ["OpenAI", { id: "c1", choices: [{ message: { content: "hi" } }], usage: { prompt_tokens: 12, completion_tokens: 34, prompt_tokens_details: { cached_tokens: 4 } } }],
    ["Anthropic", { id: "m1", content: [{ type: "text", text: "hi" }], usage: { input_tokens: 7, output_tokens: 9, cache_read_input_tokens: 2 } }],
    ["llama-server, timings after usage", { choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 }, id: "x", timings: { prompt_n: 20, prompt_ms: 100, prompt_per_second: 200, predicted_n: 50, predicted_ms: 1000, predicted_per_second: 50, cache_n: 8 } }],
    ["llama-server, timings before usage", { timings: { prompt_n: 3, prompt_ms: 10, predicted_n: 4, predicted_ms: 20 }, content: "ok", usage: { prompt_tokens: 3, completion_tokens: 4 } }],
    ["/infill, an array", [{ content: "a" }, { content: "b", timings: { prompt_n: 5, prompt_ms: 1, predicted_n: 6, predicted_ms: 2 } }]],
    ["usage with multi-byte text before it", { choices: [{ message: { content: "héllo → 世界 🎉 \"usage\": {}" } }], usage: { prompt_tokens: 2, completion_tokens: 3 } }],
  ])("a short answer (%s): the same tokens as parsing it whole", (_name, body) => {
    const text = JSON.stringify(body);
    expect(tokensFromJson(text)).not.toBeNull();
    expect(tokensFromJsonBody(enc.encode(text))).toEqual(tokensFromJson(text));
  });

  test("an answer whose last usage is null reads the real one before it", () => {
    const text = JSON.stringify({ usage: { prompt_tokens: 5, completion_tokens: 6 }, choices: [], extra: { usage: null } });
    expect(tokensFromJsonBody(enc.encode(text))?.tokens).toMatchObject({ input_tokens: 5, output_tokens: 6 });
  });

  test("an answer that names neither usage nor timings reports nothing, JSON or not", () => {
    expect(tokensFromJsonBody(enc.encode(JSON.stringify({ choices: [{ message: { content: "no counts here" } }] })))).toBeNull();
    expect(tokensFromJsonBody(enc.encode("not json at all"))).toBeNull();
    expect(tokensFromJsonBody(new Uint8Array(0))).toBeNull();
  });

  test("a long answer with no usage at all reports nothing", () => {
    expect(tokensFromJsonBody(enc.encode(JSON.stringify({ data: [{ b64_json: "A".repeat(3 * JSON_TAIL_BYTES) }] })))).toBeNull();
  });
});
