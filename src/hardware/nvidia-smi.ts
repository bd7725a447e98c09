/**
 * Asks nvidia-smi what GPUs this machine has. Used by `resources.vram: auto`
 * (the config, synchronously, once per load) and by `/api/hardware` (async,
 * per request). A machine without nvidia-smi, or whose driver does not answer,
 * is a report with `present: false` and the reason, never a throw.
 */
import { type GpuInfo, NVIDIA_SMI_FIELDS, parseNvidiaSmi, totalVramBytes } from "./nvidia-smi-parse.ts";

/** What one nvidia-smi query found. */
export interface GpuReport {
  /** True when nvidia-smi ran, exited 0 and listed at least one GPU. */
  present: boolean;
  gpus: GpuInfo[];
  /** Sum of `memoryTotalBytes` over `gpus` (0 when not present). */
  totalVramBytes: number;
  /** Why `present` is false: not installed, its exit status and output, or no GPU listed. */
  reason?: string;
}

/** How to run the query; tests point `command` at a script that prints a fixture. */
export interface GpuQueryOptions {
  /** The executable (default `nvidia-smi`, looked up on PATH). */
  command?: string;
  /** Give up after this long (default 5000 ms): a wedged driver can hang nvidia-smi. */
  timeoutMs?: number;
}

/** The argv after the executable. */
export const NVIDIA_SMI_ARGS = [`--query-gpu=${NVIDIA_SMI_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];

const DEFAULT_TIMEOUT_MS = 5000;

function report(exitCode: number | null, stdout: string, stderr: string, command: string): GpuReport {
  if (exitCode !== 0) {
    const said = (stderr.trim() || stdout.trim()).split("\n").slice(0, 3).join(" ");
    const status = exitCode === null ? "was killed (timeout)" : `exited with ${exitCode}`;
    return { present: false, gpus: [], totalVramBytes: 0, reason: `${command} ${status}${said ? `: ${said}` : ""}` };
  }
  const gpus = parseNvidiaSmi(stdout);
  if (gpus.length === 0) return { present: false, gpus, totalVramBytes: 0, reason: `${command} listed no GPU` };
  return { present: true, gpus, totalVramBytes: totalVramBytes(gpus) };
}

function notFound(command: string): GpuReport {
  return { present: false, gpus: [], totalVramBytes: 0, reason: `${command} not found on PATH` };
}

/**
 * Runs nvidia-smi once and reports the GPUs (async; for request handlers).
 *
 * @example
 * ```ts
 * const r = await queryGpus();
 * if (r.present) console.log(r.gpus.map((g) => g.name), r.totalVramBytes);
 * ```
 */
export async function queryGpus(options: GpuQueryOptions = {}): Promise<GpuReport> {
  const command = options.command ?? "nvidia-smi";
  const exe = Bun.which(command);
  if (exe === null) return notFound(command);
  const proc = Bun.spawn([exe, ...NVIDIA_SMI_ARGS], { stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, killSignal: "SIGKILL" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return report(proc.signalCode === null ? code : null, stdout, stderr, command);
}

/**
 * Runs nvidia-smi once, blocking (for config loading, which is synchronous).
 *
 * @example
 * ```ts
 * const { present, totalVramBytes } = queryGpusSync();
 * ```
 */
export function queryGpusSync(options: GpuQueryOptions = {}): GpuReport {
  const command = options.command ?? "nvidia-smi";
  const exe = Bun.which(command);
  if (exe === null) return notFound(command);
  const r = Bun.spawnSync([exe, ...NVIDIA_SMI_ARGS], { stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, killSignal: "SIGKILL" });
  return report(r.signalCode ? null : r.exitCode, r.stdout.toString(), r.stderr.toString(), command);
}
