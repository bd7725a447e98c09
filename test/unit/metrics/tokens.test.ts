/** Token counts from usage (JSON or the last SSE events) and llama-server timings. */
import { describe, expect, test } from "bun:test";
import { StreamTail, tokensFromJson, tokensFromSseTail } from "../../../src/metrics/index.ts";

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

describe("StreamTail", () => {
  test("keeps whole chunks covering the last bytes and counts every byte", () => {
    const t = new StreamTail(10);
    for (const s of ["aaaaaaaa", "bbbbbbbb", "cccc", "dd"]) t.push(enc.encode(s));
    expect(t.total).toBe(22);
    expect(t.text()).toBe("bbbbbbbbccccdd");
  });

  test("a single chunk larger than the limit is kept whole", () => {
    const t = new StreamTail(4);
    t.push(enc.encode("0123456789"));
    expect(t.text()).toBe("0123456789");
  });
});
