/**
 * The `/test/*` endpoints mounted with `--test-hooks`, so CI scripts can test
 * a config without sleeping: move the scheduler's manual clock, wait until it
 * is idle, long-poll the event stream, kill a model or fail its health checks.
 */
import type { Hono } from "hono";
import type { Context } from "hono";
import type * as V from "valibot";
import type { SequencedEvent } from "../../observe/index.ts";
import type { AppDeps } from "../state.ts";
import { HttpError } from "../errors.ts";
import { keepOpen } from "../exchange.ts";
import { buildIndex, type ModelIndex, realModelId } from "../resolve/targets.ts";
import { parseSeq } from "../stream/event-frames.ts";
import { parseDuration } from "../../lib/duration.ts";

/** How long `/test/settle` and `/test/events` wait when no `timeout` is given. */
export const DEFAULT_WAIT_MS = 10_000;

type Valibot = typeof V;
/** valibot, loaded by the first test hook that reads a body (why: nothing else on the main thread needs it: ~2 MB of RSS). */
let valibot: Promise<Valibot> | null = null;

const advanceBody = (v: Valibot) => v.object({ ms: v.pipe(v.number(), v.integer(), v.minValue(0)) });
const healthBody = (v: Valibot) => v.object({ fail: v.boolean() });

/** Reads and validates a JSON body against `schemaOf(valibot)`; throws HttpError 400 with valibot's first issue. */
async function readBody<T extends V.GenericSchema>(c: Context, schemaOf: (v: Valibot) => T): Promise<V.InferOutput<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new HttpError("invalid_body", "Cannot parse request body: it must be a JSON object");
  }
  const v = await (valibot ??= import("valibot"));
  const result = v.safeParse(schemaOf(v), raw);
  if (!result.success) {
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new HttpError("invalid_body", `Cannot accept request body as '${path || "body"}' is invalid: ${issue.message}`);
  }
  return result.output;
}

function waitParam(c: Context): number {
  const raw = c.req.query("timeout");
  if (raw === undefined) return DEFAULT_WAIT_MS;
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch {
    throw new HttpError("invalid_timeout", `Cannot wait as 'timeout' must be a duration like 500ms, 5s or 2m: current value is '${raw}'`);
  }
  return ms;
}

function modelParam(c: Context, index: ModelIndex): string {
  const name = c.req.param("model") ?? "";
  const model = realModelId(index, name);
  if (model === null) throw new HttpError("model_not_found", `Cannot find model: '${name}' is not configured`);
  return model;
}

/** Resolves with the buffered events after `since`, waiting up to `ms` (or until `signal` aborts) for the first one. */
export function waitForEvents(deps: AppDeps, since: number, ms: number, signal: AbortSignal): Promise<SequencedEvent[]> {
  const now = deps.events.since(since);
  if (now.length > 0 || ms <= 0 || signal.aborted) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener("abort", done);
      resolve(deps.events.since(since));
    };
    const unsubscribe = deps.events.subscribe((e) => {
      if (e.seq > since) done();
    });
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** What the test hooks reach beyond `AppDeps`. */
export interface TestHookOptions {
  /** Ends every open `/api/events` stream (a network blip), returning how many. */
  dropEventStreams?: () => number;
}

/**
 * Routes for `/test/*`; mount only when `deps.testHooks` is true.
 *
 * @example
 * ```ts
 * if (deps.testHooks) testHookRoutes(app, deps);
 * ```
 */
export function testHookRoutes(app: Hono, deps: AppDeps, options: TestHookOptions = {}): void {
  const index = buildIndex(deps.config);

  app.get("/test/clock", async (c) => c.json({ now: await deps.scheduler.clockNow() }));

  app.post("/test/clock/advance", async (c) => {
    const { ms } = await readBody(c, advanceBody);
    const timeoutMs = waitParam(c);
    keepOpen(c);
    const now = await deps.scheduler.clockAdvance(ms);
    const { settled, pending } = await deps.scheduler.settle(timeoutMs);
    return c.json(settled ? { now, settled } : { now, settled, pending });
  });

  app.get("/test/settle", async (c) => {
    const timeoutMs = waitParam(c);
    keepOpen(c);
    const result = await deps.scheduler.settle(timeoutMs);
    return result.settled ? c.json({ settled: true }) : c.json({ settled: false, pending: result.pending }, 408);
  });

  app.get("/test/events", async (c) => {
    const raw = c.req.query("since") ?? "0";
    const since = parseSeq(raw);
    if (since === null) throw new HttpError("invalid_since", `Cannot poll events as 'since' must be a non-negative integer: current value is '${raw}'`);
    const timeoutMs = waitParam(c);
    keepOpen(c);
    const events = await waitForEvents(deps, since, timeoutMs, c.req.raw.signal);
    return c.json({ events, lastSeq: events.at(-1)?.seq ?? deps.events.lastSeq });
  });

  // A network blip for the UI's reconnect tests: every /api/events client is cut and must resume by seq.
  app.post("/test/events/drop", (c) => c.json({ dropped: options.dropEventStreams?.() ?? 0 }));

  app.post("/test/models/:model{.+}/kill", async (c) => {
    const model = modelParam(c, index);
    await deps.scheduler.kill(model);
    return c.json({ model, killed: true });
  });

  app.post("/test/scheduler/crash", async (c) => {
    await deps.scheduler.crash();
    return c.json({ crashed: true });
  });

  app.post("/test/models/:model{.+}/health", async (c) => {
    const model = modelParam(c, index);
    const { fail } = await readBody(c, healthBody);
    await deps.scheduler.healthOverride(model, fail);
    return c.json({ model, fail });
  });
}
