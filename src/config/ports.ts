/** `${PORT}` assignment: llama-swap's order, so the same file gives the same ports. */

/** Go's sort.Strings order (code units), not locale order. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Hands out ports from `startPort`, one each, in sorted model-id order, to the
 * models whose `cmd` uses `${PORT}`; other models get no port.
 */
export function assignPorts(cmds: Readonly<Record<string, string>>, startPort: number): Map<string, number> {
  const ports = new Map<string, number>();
  let next = startPort;
  for (const id of Object.keys(cmds).sort(byCodeUnit)) {
    if ((cmds[id] ?? "").includes("${PORT}")) ports.set(id, next++);
  }
  return ports;
}
