import { afterAll, describe, expect, test } from "bun:test";
import { groupMembers, isAlive, parseProcStat, readProcStat, signalGroup, signalPid } from "../../../src/supervisor/process-tree.ts";
import { waitFor, waitGone, waitGroupGone } from "./helpers.ts";

describe("parseProcStat", () => {
  test("counts fields from the last ')' so a command name with spaces and parentheses parses", () => {
    const rest = Array.from({ length: 49 }, (_, i) => String(i + 3));
    rest[0] = "S";
    rest[19] = "987654";
    const stat = parseProcStat(`4242 (we ird) (name) ${rest.join(" ")}\n`);
    expect(stat).toEqual({ pid: 4242, state: "S", ppid: 4, pgrp: 5, session: 6, startTime: 987654 });
  });

  test.each(["", "garbage", "1 (x) S 2"])("returns null for %p", (text) => {
    expect(parseProcStat(text)).toBeNull();
  });

  test("reads this process", () => {
    expect(readProcStat(process.pid)).toMatchObject({ pid: process.pid, state: expect.any(String) });
  });
});

describe("isAlive and groupMembers", () => {
  const spawned: number[] = [];
  afterAll(async () => {
    for (const pgid of spawned) signalGroup(pgid, "SIGKILL");
    await Promise.all(spawned.map((pgid) => waitGroupGone(pgid)));
  });

  test("a missing pid is not alive", () => {
    expect(isAlive(2 ** 22 + 1)).toBe(false);
    expect(isAlive(process.pid)).toBe(true);
  });

  test("a zombie is not alive and not a group member", async () => {
    // sh forks `true` and execs sleep, which never reaps it: a zombie until the group dies.
    const proc = Bun.spawn({ cmd: ["sh", "-c", "true & exec sleep 1000"], detached: true });
    spawned.push(proc.pid);
    const zombie = await waitFor(() => {
      const kids = readChildren(proc.pid);
      return kids.find((pid) => readProcStat(pid)?.state === "Z");
    });
    expect(isAlive(zombie)).toBe(false);
    expect(groupMembers(proc.pid)).toEqual([proc.pid]);
  });

  test("groupMembers lists every live process of the group and none after SIGKILL to the group", async () => {
    const proc = Bun.spawn({ cmd: ["sh", "-c", "sleep 1000 & sleep 1000 & wait"], detached: true });
    spawned.push(proc.pid);
    const members = await waitFor(() => (groupMembers(proc.pid).length === 3 ? groupMembers(proc.pid) : undefined));
    expect(members).toContain(proc.pid);
    expect(signalGroup(proc.pid, "SIGKILL")).toBe("sent");
    await waitGone(members);
    await waitGroupGone(proc.pid);
  });

  test("signalGroup never signals pgid 0 or 1, which would reach far more than one group", () => {
    expect(signalGroup(0, "SIGKILL")).toBe("gone");
    expect(signalGroup(1, "SIGKILL")).toBe("gone");
  });

  test("signalGroup never signals its own process's group (modelswap and whoever started it)", async () => {
    // In a child with a group of its own, so that a regression kills only the child.
    const src = `import { signalGroup, readProcStat } from ${JSON.stringify(`${import.meta.dir}/../../../src/supervisor/process-tree.ts`)};
      console.log(signalGroup(readProcStat(process.pid).pgrp, "SIGKILL"));`;
    const child = Bun.spawn({ cmd: [process.execPath, "-e", src], detached: true, stdout: "pipe", stderr: "inherit" });
    expect(await child.exited).toBe(0);
    expect(child.signalCode).toBeNull();
    expect((await new Response(child.stdout).text()).trim()).toBe("gone");
  });

  test("signals never throw: a missing process is 'gone', another user's is 'denied' (EPERM)", () => {
    expect(signalPid(2 ** 22 + 1, "SIGTERM")).toBe("gone");
    expect(signalGroup(2 ** 22 + 1, "SIGTERM")).toBe("gone");
    // PID 1 belongs to root (or, in a user namespace, is not ours to signal): EPERM unless we are root.
    if (process.getuid?.() !== 0) {
      expect(signalPid(1, "SIGCONT")).toBe("gone"); // pid ≤ 1 is refused before the kernel is asked
    }
  });
});

function readChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const name of new Bun.Glob("[0-9]*").scanSync({ cwd: "/proc", onlyFiles: false })) {
    if (readProcStat(Number(name))?.ppid === ppid) out.push(Number(name));
  }
  return out;
}
