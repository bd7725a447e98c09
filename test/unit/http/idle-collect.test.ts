/** The idle collection's decision (src/http/idle-collect.ts), one `tick` per interval: no timer, no wall clock. */
import { describe, expect, test } from "bun:test";
import { IdleGc } from "../../../src/http/idle-collect.ts";

function setup() {
  const s = { collected: 0, released: 0, busy: false };
  const gc = new IdleGc(() => s.collected++, () => s.busy, { run: () => s.released++, afterIntervals: 3 });
  return { s, gc };
}

/** `n` intervals with no request in them. */
function quiet(gc: IdleGc, n: number): void {
  for (let i = 0; i < n; i++) gc.tick();
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

  test("releases once after the longer quiet that follows the collection, and not again until the next burst", () => {
    const { s, gc } = setup();
    quiet(gc, 10);
    expect(s.released).toBe(0); // nothing to release before any activity
    gc.touch();
    gc.tick();
    gc.tick(); // the collection
    quiet(gc, 2);
    expect([s.collected, s.released]).toEqual([1, 0]);
    gc.tick(); // the third quiet interval after the collection
    expect([s.collected, s.released]).toEqual([1, 1]);
    quiet(gc, 10);
    expect([s.collected, s.released]).toEqual([1, 1]);
    gc.touch();
    gc.tick();
    quiet(gc, 4);
    expect([s.collected, s.released]).toEqual([2, 2]);
  });

  test("a request during the longer quiet starts it over, and in-flight work holds it", () => {
    const { s, gc } = setup();
    gc.touch();
    gc.tick();
    gc.tick(); // collected
    quiet(gc, 2);
    gc.touch(); // a request just before the release was due
    gc.tick();
    quiet(gc, 3); // collection, then two quiet intervals
    expect([s.collected, s.released]).toEqual([2, 0]);
    s.busy = true; // something in flight that no new request announced
    quiet(gc, 5);
    expect(s.released).toBe(0);
    s.busy = false;
    gc.tick();
    expect(s.released).toBe(1);
  });

  test("without a release only the collection runs", () => {
    let collected = 0;
    const gc = new IdleGc(() => collected++);
    gc.touch();
    quiet(gc, 30);
    expect(collected).toBe(1);
  });
});
