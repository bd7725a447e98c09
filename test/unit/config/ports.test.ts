/**
 * `${PORT}` assignment (src/config/ports.ts): llama-swap's sorted order on a
 * first load; on a reload every model keeps its port and a new one takes the
 * lowest free port, so adding a model never restarts the others.
 */
import { describe, expect, test } from "bun:test";
import { assignPorts } from "../../../src/config/ports.ts";

const cmds = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, `server --port \${PORT}`]));

describe("assignPorts", () => {
  test("hands out ports in sorted id order to models whose cmd uses ${PORT}", () => {
    const ports = assignPorts({ ...cmds(["b", "a"]), fixed: "server --port 9000" }, 5800);
    expect([...ports]).toEqual([["a", 5800], ["b", 5801]]);
  });

  test.each<[string, string[], Record<string, number>, Array<[string, number]>]>([
    ["a model added before the others in sorted order", ["a", "b", "c"], { b: 5800, c: 5801 }, [["a", 5802], ["b", 5800], ["c", 5801]]],
    ["a model removed leaves a gap the next new one fills", ["a", "c", "d"], { a: 5800, c: 5802 }, [["a", 5800], ["c", 5802], ["d", 5801]]],
    ["nothing changed", ["a", "b"], { a: 5800, b: 5801 }, [["a", 5800], ["b", 5801]]],
  ])("on a reload, %s: every model keeps its port", (_name, ids, previous, expected) => {
    const ports = assignPorts(cmds(ids), 5800, { startPort: 5800, ports: previous });
    expect([...ports].sort((x, y) => (x[0] < y[0] ? -1 : 1))).toEqual(expected);
  });

  test("a changed startPort hands out fresh numbers", () => {
    const ports = assignPorts(cmds(["a", "b"]), 6000, { startPort: 5800, ports: { a: 5801, b: 5800 } });
    expect([...ports]).toEqual([["a", 6000], ["b", 6001]]);
  });
});
