/** Token counts from usage (JSON or the last SSE events) and llama-server timings. */
import { describe, expect, test } from "bun:test";
import { BodyUsageTail, SseUsageTail, tokensFromJson, tokensFromSseTail } from "../../../src/metrics/index.ts";

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
    expect(tokensFromSseTail(t.text())?.tokens).toMatchObject({ input_tokens: 2, output_tokens: 3 });
  });
});

describe("BodyUsageTail", () => {
  test("a small body is kept whole, every byte counted", () => {
    const t = new BodyUsageTail(100);
    for (const s of ['{"usage":', '{"prompt_tokens":1,', '"completion_tokens":2}}']) t.push(enc.encode(s));
    expect(tokensFromJson(t.text())?.tokens).toMatchObject({ input_tokens: 1, output_tokens: 2 });
  });

  test("past the limit nothing is kept (a cut JSON document cannot parse anyway)", () => {
    const t = new BodyUsageTail(4);
    t.push(enc.encode("0123"));
    t.push(enc.encode("456789"));
    expect(t.total).toBe(10);
    expect(t.text()).toBe("");
  });
});
