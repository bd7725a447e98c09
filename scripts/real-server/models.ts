/**
 * Writes the real-server suite's tiny models into a directory: `alpha` and
 * `beta`, two different random llama models sharing llama.cpp's llama-spm
 * vocabulary (so swaps between them are real swaps between two files), and
 * `long`, trained (so to speak) for 2048 tokens of context: llama-server caps
 * a slot's context at the model's own, so only this one streams for seconds.
 *
 * @example
 * ```ts
 * await generateModels(`${buildDir}/vocab/ggml-vocab-llama-spm.gguf`, "/tmp/models");
 * // /tmp/models/alpha.gguf, /tmp/models/beta.gguf
 * ```
 */
import { readGguf } from "../gguf/index.ts";
import { tinyLlama } from "./tiny-model.ts";

/** The generated models, by file stem. */
export const REAL_MODELS = {
  alpha: { seed: 1, nCtx: 256 },
  beta: { seed: 2, nCtx: 256 },
  long: { seed: 3, nCtx: 2048 },
} as const;
export type RealModel = keyof typeof REAL_MODELS;

/** Reads the vocab-only GGUF at `vocabPath` and writes one `<name>.gguf` per model into `dir`. */
export async function generateModels(vocabPath: string, dir: string): Promise<void> {
  const vocab = readGguf(new Uint8Array(await Bun.file(vocabPath).arrayBuffer()));
  for (const [name, { seed, nCtx }] of Object.entries(REAL_MODELS)) {
    await Bun.write(`${dir}/${name}.gguf`, tinyLlama(vocab, { name, seed, nCtx }));
  }
}
