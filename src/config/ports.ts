/** `${PORT}` assignment: llama-swap's order, so the same file gives the same ports. */

/** Go's sort.Strings order (code units), not locale order. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The ports of the configuration in force, so a reload can keep them. */
export interface PreviousPorts {
  startPort: number;
  ports: Readonly<Record<string, number>>;
}

/**
 * Hands out ports from `startPort`, one each, in sorted model-id order, to the
 * models whose `cmd` uses `${PORT}`; other models get no port. On a reload
 * (`previous` with the same `startPort`) every model keeps the port it had and
 * a new one gets the lowest free port: adding a model must not shift the
 * others' numbers, or models whose settings did not change would be restarted.
 */
export function assignPorts(cmds: Readonly<Record<string, string>>, startPort: number, previous?: PreviousPorts): Map<string, number> {
  const ports = new Map<string, number>();
  const ids = Object.keys(cmds).sort(byCodeUnit).filter((id) => (cmds[id] ?? "").includes("${PORT}"));
  const kept = previous !== undefined && previous.startPort === startPort ? previous.ports : {};
  const taken = new Set<number>();
  for (const id of ids) {
    const port = kept[id];
    if (port !== undefined && !taken.has(port)) {
      ports.set(id, port);
      taken.add(port);
    }
  }
  let next = startPort;
  for (const id of ids) {
    if (ports.has(id)) continue;
    while (taken.has(next)) next++;
    ports.set(id, next);
    taken.add(next);
  }
  return ports;
}
