/**
 * The GGUF reader and writer of `scripts/gguf/`: a small file round-trips
 * with every value type kept, tensor data lands aligned, and malformed
 * input is refused with a message that says what is wrong.
 */
import { describe, expect, test } from "bun:test";
import { GgmlType, type GgufFile, GgufType, gguf, readGguf, writeGguf } from "../../../scripts/gguf/index.ts";
import { tinyLlama, wordTokens } from "../../../scripts/real-server/tiny-model.ts";

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

function sample(): GgufFile {
  return {
    version: 3,
    metadata: new Map([
      ["general.architecture", gguf.string("llama")],
      ["general.name", gguf.string("tiny ünïcode")],
      ["u8", { type: GgufType.UINT8, value: 255 }],
      ["i8", { type: GgufType.INT8, value: -128 }],
      ["u16", { type: GgufType.UINT16, value: 65535 }],
      ["i16", { type: GgufType.INT16, value: -32768 }],
      ["u32", gguf.u32(4_000_000_000)],
      ["i32", gguf.i32(-5)],
      ["f32", gguf.f32(0.5)],
      ["f64", { type: GgufType.FLOAT64, value: Math.PI }],
      ["u64", { type: GgufType.UINT64, value: 2n ** 63n }],
      ["i64", { type: GgufType.INT64, value: -(2n ** 40n) }],
      ["yes", gguf.bool(true)],
      ["tokens", gguf.array(GgufType.STRING, ["<s>", "▁cat", ""])],
      ["scores", gguf.array(GgufType.FLOAT32, [0, -1.5, 2])],
      ["flags", gguf.array(GgufType.BOOL, [true, false])],
    ]),
    tensors: [
      { name: "a", dims: [3], type: GgmlType.F32, data: f32([1, 2, 3]) },
      { name: "b", dims: [2, 2], type: GgmlType.F32, data: f32([4, 5, 6, 7]) },
      { name: "h", dims: [1], type: GgmlType.F16, data: new Uint8Array([0x00, 0x3c]) },
    ],
  };
}

describe("GGUF round trip", () => {
  test("every value type, array and tensor reads back as written", () => {
    const bytes = writeGguf(sample());
    const back = readGguf(bytes);
    expect(back.version).toBe(3);
    expect([...back.metadata]).toEqual([...sample().metadata]);
    expect(back.tensors.map((t) => ({ ...t, dims: [...t.dims] }))).toEqual(sample().tensors.map((t) => ({ ...t, dims: [...t.dims] })));
    // Writing what was read gives the same bytes.
    expect(writeGguf(back)).toEqual(bytes);
  });

  test("the header is GGUF version 3 and tensor data starts on a 32-byte boundary", () => {
    const bytes = writeGguf(sample());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("GGUF");
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(4, true)).toBe(3);
    expect(view.getBigUint64(8, true)).toBe(3n); // tensors
    expect(view.getBigUint64(16, true)).toBe(16n); // metadata keys
    // The last tensor (2 bytes of F16) ends the file, padded to the alignment.
    expect(bytes.byteLength % 32).toBe(0);
    const end = bytes.byteLength - 32;
    expect([...bytes.subarray(end, end + 2)]).toEqual([0x00, 0x3c]);
  });

  test("values past the writer's first 64 KiB buffer survive its growth", () => {
    const file = sample();
    const long = "x".repeat(100_000);
    file.metadata.set("long", gguf.string(long));
    file.metadata.set("after", { type: GgufType.UINT64, value: 7n });
    const back = readGguf(writeGguf(file));
    expect(back.metadata.get("long")).toEqual(gguf.string(long));
    expect(back.metadata.get("after")).toEqual({ type: GgufType.UINT64, value: 7n });
  });

  test("general.alignment is honoured", () => {
    const file = sample();
    file.metadata.set("general.alignment", gguf.u32(64));
    const bytes = writeGguf(file);
    expect(bytes.byteLength % 64).toBe(0);
    expect(readGguf(bytes).tensors[1]?.data).toEqual(f32([4, 5, 6, 7]));
  });
});

describe("GGUF refusals", () => {
  test("a file that is not GGUF", () => {
    expect(() => readGguf(new TextEncoder().encode("GGML\x03\0\0\0"))).toThrow('Cannot read GGUF: magic is 0x4c4d4747, not "GGUF"');
  });
  test("a truncated file names the offset", () => {
    const bytes = writeGguf(sample());
    expect(() => readGguf(bytes.subarray(0, 40))).toThrow(/Cannot read \d+ bytes at offset \d+: the file has 40/);
  });
  test("tensor data whose size does not match its dims", () => {
    const file = sample();
    file.tensors[0] = { name: "a", dims: [4], type: GgmlType.F32, data: f32([1, 2, 3]) };
    expect(() => writeGguf(file)).toThrow("Cannot write tensor 'a': dims [4] need 16 bytes, data has 12");
  });
  test("a value of the wrong JS type", () => {
    const file = sample();
    file.metadata.set("bad", { type: GgufType.UINT64, value: 5 as unknown as bigint });
    expect(() => writeGguf(file)).toThrow("Cannot write a UINT64: got number 5");
  });
});

describe("tiny llama model", () => {
  const vocab: GgufFile = {
    version: 3,
    metadata: new Map([
      ["general.architecture", gguf.string("llama")],
      ["tokenizer.ggml.model", gguf.string("llama")],
      ["tokenizer.ggml.tokens", gguf.array(GgufType.STRING, ["<unk>", "<s>", "</s>", "<0x00>", ...Array.from({ length: 120 }, (_, i) => `\u2581w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`), "▁Cat", "x"])],
      ["tokenizer.ggml.token_type", gguf.array(GgufType.INT32, [2, 3, 3, 6, ...Array.from({ length: 120 }, () => 1), 1, 1])],
      ["tokenizer.ggml.bos_token_id", gguf.u32(1)],
    ]),
    tensors: [],
  };

  test("word tokens are lowercase words after the space marker, of normal type", () => {
    const words = wordTokens(vocab);
    expect(words.size).toBe(120);
    expect(words.has(4)).toBe(true);
    expect(words.has(3)).toBe(false); // a byte token
    expect(words.has(124)).toBe(false); // ▁Cat
  });

  test("has llama's tensors and hyperparameters, and the vocab's tokenizer keys", () => {
    const model = readGguf(tinyLlama(vocab, { name: "t", seed: 1, nEmbd: 8, nHead: 2, nFf: 16, nLayer: 1 }));
    expect(model.metadata.get("general.architecture")).toEqual(gguf.string("llama"));
    expect(model.metadata.get("llama.embedding_length")).toEqual(gguf.u32(8));
    expect(model.metadata.get("llama.rope.dimension_count")).toEqual(gguf.u32(4));
    expect(model.metadata.get("tokenizer.ggml.bos_token_id")).toEqual(gguf.u32(1));
    expect(model.metadata.get("tokenizer.ggml.fim_mid_token_id")).toEqual(gguf.u32(5));
    expect(model.tensors.map((t) => `${t.name} ${t.dims.join("x")}`)).toEqual([
      "token_embd.weight 8x126",
      "output_norm.weight 8",
      "output.weight 8x126",
      "blk.0.attn_norm.weight 8",
      "blk.0.attn_q.weight 8x8",
      "blk.0.attn_k.weight 8x8",
      "blk.0.attn_v.weight 8x8",
      "blk.0.attn_output.weight 8x8",
      "blk.0.ffn_norm.weight 8",
      "blk.0.ffn_gate.weight 8x16",
      "blk.0.ffn_up.weight 8x16",
      "blk.0.ffn_down.weight 16x8",
    ]);
    // The output row of a word token is +1 on dimension 0, any other token's -1.
    const out = model.tensors.find((t) => t.name === "output.weight")!;
    const rows = new Float32Array(out.data.buffer, out.data.byteOffset, out.data.byteLength / 4);
    expect(rows[4 * 8]).toBe(1);
    expect(rows[3 * 8]).toBe(-1);
    expect(rows[124 * 8]).toBe(-1);
  });

  test("the same seed gives the same bytes, another seed other weights", () => {
    const a = tinyLlama(vocab, { name: "t", seed: 1, nEmbd: 8, nHead: 2, nFf: 16, nLayer: 1 });
    expect(tinyLlama(vocab, { name: "t", seed: 1, nEmbd: 8, nHead: 2, nFf: 16, nLayer: 1 })).toEqual(a);
    expect(tinyLlama(vocab, { name: "t", seed: 2, nEmbd: 8, nHead: 2, nFf: 16, nLayer: 1 })).not.toEqual(a);
  });
});
