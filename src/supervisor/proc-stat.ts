/**
 * One process as this project sees it, whatever the source: /proc/PID/stat
 * on Linux (process-tree.ts), `ps` or `tasklist` elsewhere (process-ps.ts).
 */

/** The fields of /proc/PID/stat this project reads. */
export interface ProcStat {
  pid: number;
  /** Field 3: R, S, D, Z, T, X… */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 5: the process group id. */
  pgrp: number;
  /** Field 6. */
  session: number;
  /** Field 22: clock ticks after boot; with the pid it names one process for good. */
  startTime: number;
}
