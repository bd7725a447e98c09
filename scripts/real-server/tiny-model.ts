/**
 * Builds a tiny llama-architecture GGUF with random weights (n_embd 64,
 * 2 layers, 4 heads, n_ff 128, context 256; ~17 MB with the llama-spm
 * vocabulary) that llama.cpp's llama-server loads in milliseconds. The
 * tokenizer is copied from one of llama.cpp's vocab-only GGUFs.
 *
 * Pure random weights make llama-server answer 500 on about 7% of chats:
 * byte tokens (`<0xC3>` alone) decode to invalid UTF-8. So the output layer
 * makes plain word tokens (`▁cat`) win: dimension 0 of every token embedding
 * is a constant, which RMS norm keeps large and positive through the (small)
 * layers, and the output rows of word tokens are +1 there, every other row -1.
 * End-of-text is never likely, so a generation runs to `max_tokens` (or the
 * context): streams are as long as a test asks.
 *
 * @example
 * ```ts
 * const bytes = tinyLlama(readGguf(vocabBytes), { name: "alpha", seed: 1 });
 * await Bun.write("alpha.gguf", bytes);
 * ```
 */
import { GgmlType, type GgufFile, type GgufTensor, GgufType, type GgufValue, gguf, writeGguf } from "../gguf/index.ts";

export interface TinyLlamaOptions {
  /** `general.name`. */
  name: string;
  /** PRNG seed: two models with different seeds answer differently. */
  seed: number;
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  nFf?: number;
  nCtx?: number;
  /** Marks three byte tokens as the fill-in-the-middle tokens, so `/infill` works. Default true. */
  fim?: boolean;
}

/** mulberry32: a small deterministic PRNG (same seed, same model). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function f32Tensor(name: string, dims: number[], fill: (i: number) => number): GgufTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = fill(i);
  return { name, dims, type: GgmlType.F32, data: new Uint8Array(values.buffer) };
}

/** Token ids whose text is one plain lowercase word after a space (`▁cat`). */
export function wordTokens(vocab: GgufFile): Set<number> {
  const tokens = vocab.metadata.get("tokenizer.ggml.tokens");
  const types = vocab.metadata.get("tokenizer.ggml.token_type");
  if (tokens?.type !== GgufType.ARRAY || types?.type !== GgufType.ARRAY) {
    throw new TypeError("Cannot find word tokens: the vocab has no tokenizer.ggml.tokens / token_type arrays");
  }
  const words = new Set<number>();
  tokens.items.forEach((t, i) => {
    if (types.items[i] === 1 && typeof t === "string" && /^\u2581[a-z]{2,}$/.test(t)) words.add(i);
  });
  return words;
}

/** The tiny model's GGUF bytes, with `vocab`'s `tokenizer.*` metadata. */
export function tinyLlama(vocab: GgufFile, options: TinyLlamaOptions): Uint8Array {
  const { nEmbd = 64, nLayer = 2, nHead = 4, nFf = 128, nCtx = 256, fim = true } = options;
  const tokens = vocab.metadata.get("tokenizer.ggml.tokens");
  if (tokens?.type !== GgufType.ARRAY) throw new TypeError("Cannot build the model: the vocab has no tokenizer.ggml.tokens");
  const nVocab = tokens.items.length;
  const words = wordTokens(vocab);
  if (words.size < 100) throw new RangeError(`Cannot build the model: only ${words.size} word tokens in the vocab`);

  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.string("llama")],
    ["general.name", gguf.string(options.name)],
    ["general.file_type", gguf.u32(0)], // all F32
    ["llama.vocab_size", gguf.u32(nVocab)],
    ["llama.context_length", gguf.u32(nCtx)],
    ["llama.embedding_length", gguf.u32(nEmbd)],
    ["llama.block_count", gguf.u32(nLayer)],
    ["llama.feed_forward_length", gguf.u32(nFf)],
    ["llama.attention.head_count", gguf.u32(nHead)],
    ["llama.attention.head_count_kv", gguf.u32(nHead)],
    ["llama.rope.dimension_count", gguf.u32(nEmbd / nHead)],
    ["llama.attention.layer_norm_rms_epsilon", gguf.f32(1e-5)],
  ]);
  for (const [key, value] of vocab.metadata) if (key.startsWith("tokenizer.")) metadata.set(key, value);
  if (fim) {
    // <0x00>, <0x01>, <0x02> in llama's vocab: never sampled (byte tokens lose), never in tokenized text.
    metadata.set("tokenizer.ggml.fim_pre_token_id", gguf.u32(3));
    metadata.set("tokenizer.ggml.fim_suf_token_id", gguf.u32(4));
    metadata.set("tokenizer.ggml.fim_mid_token_id", gguf.u32(5));
  }

  const rand = prng(options.seed);
  // Box-Muller normal with standard deviation `std`.
  const normal = (std: number) => () => std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const small = normal(0.02);
  const one = () => 1;
  const tensors: GgufTensor[] = [
    // ne0 = n_embd is the fastest dimension: element i belongs to token floor(i / nEmbd), component i % nEmbd.
    f32Tensor("token_embd.weight", [nEmbd, nVocab], (i) => (i % nEmbd === 0 ? 4 : normal(0.5)())),
    f32Tensor("output_norm.weight", [nEmbd], one),
    f32Tensor("output.weight", [nEmbd, nVocab], (i) =>
      i % nEmbd === 0 ? (words.has(Math.floor(i / nEmbd)) ? 1 : -1) : small(),
    ),
  ];
  for (let l = 0; l < nLayer; l++) {
    const b = `blk.${l}`;
    tensors.push(
      f32Tensor(`${b}.attn_norm.weight`, [nEmbd], one),
      f32Tensor(`${b}.attn_q.weight`, [nEmbd, nEmbd], small),
      f32Tensor(`${b}.attn_k.weight`, [nEmbd, nEmbd], small),
      f32Tensor(`${b}.attn_v.weight`, [nEmbd, nEmbd], small),
      f32Tensor(`${b}.attn_output.weight`, [nEmbd, nEmbd], small),
      f32Tensor(`${b}.ffn_norm.weight`, [nEmbd], one),
      f32Tensor(`${b}.ffn_gate.weight`, [nEmbd, nFf], small),
      f32Tensor(`${b}.ffn_up.weight`, [nEmbd, nFf], small),
      f32Tensor(`${b}.ffn_down.weight`, [nFf, nEmbd], small),
    );
  }
  return writeGguf({ version: 3, metadata, tensors });
}
