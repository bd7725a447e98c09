/**
 * The `ps` path of process inspection (macOS has no /proc), tested on output
 * captured from macOS and Linux, and on this machine's own `ps` against /proc.
 */
import { describe, expect, test } from "bun:test";
import { parsePsLine, parsePsOutput, parseTasklistCsv, psAll, psStat } from "../../../src/supervisor/process-ps.ts";
import { readProcStat } from "../../../src/supervisor/process-tree.ts";

/** `LC_ALL=C ps -A -o pid=,ppid=,pgid=,stat=,lstart=` on macOS 14 (trimmed). */
const MACOS = `    1     0     1 Ss   Mon Nov 30 08:01:12 2026
  412     1   412 Ss   Mon Nov 30 08:01:40 2026
 8801  8790  8801 S+   Tue Dec  1 06:23:21 2026
 8802  8801  8801 R+   Tue Dec  1 06:23:22 2026
 8803  8801  8801 Z+   Tue Dec  1 06:23:22 2026
 8810     1  8810 U    Tue Dec  1 06:23:30 2026
 8811     1  8811 I    Tue Dec  1 06:23:31 2026
 8812  8811  8811 T    Tue Dec  1 06:23:31 2026
`;

/** The same columns from Linux procps (`S<Ll` and `I<` kernel-thread states included). */
const LINUX = `    1     0     0 S<Ll Tue Dec  1 06:19:38 2026
    4     2     0 I<   Tue Dec  1 06:19:38 2026
 5120  5101  5120 Ssl  Tue Dec  1 06:25:01 2026
`;

const at = (text: string) => Math.round(Date.parse(text) / 1000);

describe("parsePsLine / parsePsOutput", () => {
  test("macOS output: pid, ppid, process group, state and start time", () => {
    const stats = parsePsOutput(MACOS);
    expect(stats.map((s) => [s.pid, s.ppid, s.pgrp, s.state])).toEqual([
      [1, 0, 1, "S"],
      [412, 1, 412, "S"],
      [8801, 8790, 8801, "S"],
      [8802, 8801, 8801, "R"],
      [8803, 8801, 8801, "Z"],
      [8810, 1, 8810, "D"], // macOS "U" (uninterruptible wait) is /proc's "D"
      [8811, 1, 8811, "S"], // macOS "I" (idle, asleep > 20 s) is sleeping
      [8812, 8811, 8811, "T"],
    ]);
    expect(stats[2]!.startTime).toBe(at("Tue Dec 1 06:23:21 2026"));
    expect(stats[3]!.startTime - stats[2]!.startTime).toBe(1);
  });

  test("Linux procps output parses the same way", () => {
    expect(parsePsOutput(LINUX).map((s) => [s.pid, s.pgrp, s.state])).toEqual([
      [1, 0, "S"],
      [4, 0, "S"], // an idle kernel thread sleeps
      [5120, 5120, "S"],
    ]);
  });

  test.each(["", "  PID  PPID  PGID STAT STARTED", "12 3 4 S not a date", "x y z"])("%p is not a process line", (line) => {
    expect(parsePsLine(line)).toBeNull();
  });
});

describe("ps on this machine agrees with /proc", () => {
  test("psStat(own pid) has the pid, parent and process group /proc reports", () => {
    const ps = psStat(process.pid);
    const proc = readProcStat(process.pid);
    expect(ps).not.toBeNull();
    expect(proc).not.toBeNull();
    expect(ps).toMatchObject({ pid: proc!.pid, ppid: proc!.ppid, pgrp: proc!.pgrp });
  });

  test("psStat of a pid that does not exist is null", () => {
    expect(psStat(2 ** 22 + 7)).toBeNull();
  });

  test("psAll lists this process", () => {
    expect(psAll().some((s) => s.pid === process.pid)).toBe(true);
  });
});

describe("parseTasklistCsv (Windows)", () => {
  test("a running process: its pid, standing for its own group", () => {
    const text = '"llama-server.exe","4321","Console","1","1,234,567 K"\r\n';
    expect(parseTasklistCsv(text)).toEqual([{ pid: 4321, state: "R", ppid: 0, pgrp: 4321, session: 0, startTime: 0 }]);
  });

  test("no such process: tasklist's INFO line lists nothing", () => {
    expect(parseTasklistCsv("INFO: No tasks are running which match the specified criteria.\r\n")).toEqual([]);
  });
});
