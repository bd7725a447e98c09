/**
 * The system subsystem's door: this machine as llama-swap's `/api/hardware`
 * and `/api/performance` describe it (GPUs come from `src/hardware`).
 */
export { type HardwareSnapshot, hardwareSnapshot } from "./hardware.ts";
export { type GpuStat, PerformanceMonitor, type SysStat } from "./performance.ts";
export type { GpuReport } from "./gpu-report.ts";
