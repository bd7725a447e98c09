/** GGUF reading and writing, in TypeScript, for the tiny test models (no Python). */
export { readGguf } from "./reader.ts";
export { writeGguf } from "./writer.ts";
export { GgmlType, type GgufFile, type GgufTensor, GgufType, type GgufValue, gguf } from "./types.ts";
