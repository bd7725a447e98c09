/**
 * Pure readers of Linux's /proc text (CPU times, memory, load, network):
 * the sampler reads the files, these turn their text into numbers, so tests
 * run on captured text.
 */

/** Busy and total jiffies of one CPU line of /proc/stat. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Per-core times from /proc/stat (`cpu0`, `cpu1`, …; the `cpu` sum line skipped). */
export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest fields are already in user/nice)
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    out[Number(m[1])] = { busy: total - idle, total };
  }
  return out.filter((x) => x !== undefined);
}

/** Utilisation per core in percent between two readings (0 where nothing elapsed). */
export function cpuPercent(before: CpuTimes[], after: CpuTimes[]): number[] {
  return after.map((a, i) => {
    const b = before[i];
    if (b === undefined) return 0;
    const dt = a.total - b.total;
    return dt > 0 ? Math.round(((a.busy - b.busy) / dt) * 1000) / 10 : 0;
  });
}

/** What /proc/meminfo says, in MB (MiB, as llama-swap reports them). */
export interface MemInfo {
  totalMb: number;
  usedMb: number;
  freeMb: number;
  swapTotalMb: number;
  swapUsedMb: number;
}

/** Memory from /proc/meminfo; "used" is total minus available, as `free` shows it. */
export function parseMeminfo(text: string): MemInfo {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text);
    return m === null ? 0 : Number(m[1]);
  };
  const total = kb("MemTotal");
  const available = text.includes("MemAvailable:") ? kb("MemAvailable") : kb("MemFree") + kb("Buffers") + kb("Cached");
  const mb = (n: number) => Math.round(n / 1024);
  return { totalMb: mb(total), usedMb: mb(total - available), freeMb: mb(available), swapTotalMb: mb(kb("SwapTotal")), swapUsedMb: mb(kb("SwapTotal") - kb("SwapFree")) };
}

/** The three load averages of /proc/loadavg. */
export function parseLoadavg(text: string): [number, number, number] {
  const [a = "0", b = "0", c = "0"] = text.trim().split(/\s+/);
  return [Number(a), Number(b), Number(c)];
}

/** llama-swap's `NetIOStat`. */
export interface NetIo {
  name: string;
  bytes_recv: number;
  bytes_sent: number;
}

/** Bytes per interface from /proc/net/dev (two header lines, then `name: recv … sent …`). */
export function parseNetDev(text: string): NetIo[] {
  const out: NetIo[] = [];
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (m === null) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out.push({ name: m[1]!.trim(), bytes_recv: f[0] ?? 0, bytes_sent: f[8] ?? 0 });
  }
  return out;
}
