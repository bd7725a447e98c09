/**
 * The hardware subsystem: what this machine has, read from its own tools.
 * Today that is NVIDIA GPUs through nvidia-smi (`queryGpus` for handlers,
 * `queryGpusSync` for config loading, `parseNvidiaSmi` for captured output).
 * Absent tools are a report with `present: false`, never an exception.
 */
export { type GpuInfo, parseNvidiaSmi, totalVramBytes } from "./nvidia-smi-parse.ts";
export { type GpuQueryOptions, type GpuReport, NVIDIA_SMI_ARGS, queryGpus, queryGpusSync } from "./nvidia-smi.ts";
