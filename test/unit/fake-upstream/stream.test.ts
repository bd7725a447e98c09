import { expect, test } from "bun:test";
import { framesOf, paced } from "../../../src/fake-upstream/stream.ts";

const noCrash = { intervalMs: 0, crashAfter: null, crash() {} };

test("framesOf lists head, one frame per token, then tail", () => {
  const f = framesOf([() => "a"], 3, (i) => `t${i}`, [() => "z", () => "end"]);
  expect(Array.from({ length: f.length }, (_, i) => f.at(i))).toEqual(["a", "t0", "t1", "t2", "z", "end"]);
});

test("paced builds each frame only when it is sent (an open stream holds no pre-built answer)", async () => {
  const built: number[] = [];
  const frames = framesOf([], 1000, (i) => (built.push(i), `data: ${i}\n\n`), []);
  const reader = paced(frames, noCrash).getReader();
  const dec = new TextDecoder();
  expect(dec.decode((await reader.read()).value)).toBe("data: 0\n\n");
  expect(dec.decode((await reader.read()).value)).toBe("data: 1\n\n");
  // the stream may build one frame ahead to fill its queue, never the whole answer
  expect(built.length).toBeLessThanOrEqual(3);
  await reader.cancel();
});

test("paced still takes a plain array of strings", async () => {
  const text = await new Response(paced(["x", "y"], noCrash)).text();
  expect(text).toBe("xy");
});
