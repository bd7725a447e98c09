/** The idle collection's decision (src/http/idle-collect.ts), one `tick` per interval: no timer, no wall clock. */
import { describe, expect, test } from "bun:test";
import { IdleGc } from "../../../src/http/idle-collect.ts";

function setup() {
  const s = { collected: 0, busy: false };
  const gc = new IdleGc(() => s.collected++, () => s.busy);
  return { s, gc };
}

describe("IdleGc", () => {
  test("collects once after a quiet interval that followed activity, not before and not again", () => {
    const { s, gc } = setup();
    gc.tick();
    expect(s.collected).toBe(0); // nothing happened yet
    gc.touch();
    gc.tick(); // the interval with the request in it
    expect(s.collected).toBe(0);
    gc.tick(); // a quiet one
    expect(s.collected).toBe(1);
    gc.tick();
    expect(s.collected).toBe(1);
  });

  test("waits while requests are in flight (a model loading, a stream open), then collects once they are done", () => {
    const { s, gc } = setup();
    gc.touch();
    gc.tick();
    s.busy = true;
    gc.tick();
    gc.tick();
    expect(s.collected).toBe(0);
    s.busy = false;
    gc.tick();
    expect(s.collected).toBe(1);
  });
});
