/**
 * This machine: llama-swap's `/api/hardware` (a snapshot taken once) and
 * `/api/performance` (system and GPU samples; `?after=` for the newer ones).
 */
import type { Hono } from "hono";
import { hardwareSnapshot, type HardwareSnapshot } from "../../system/index.ts";
import { HttpError } from "../errors.ts";
import type { Front } from "../state.ts";
import { VERSION } from "../../lib/version.ts";

/**
 * Routes for `/api/hardware` and `/api/performance`.
 *
 * @example
 * ```ts
 * systemRoutes(app, front);
 * ```
 */
export function systemRoutes(app: Hono, front: Front): void {
  const none = async () => ({ present: false, gpus: [], reason: "no GPU query configured" });
  let snapshot: Promise<HardwareSnapshot> | null = null;

  app.get("/api/hardware", async (c) => {
    snapshot ??= (front.deps.queryGpus ?? none)().then((gpus) => hardwareSnapshot(gpus, VERSION));
    return c.json(await snapshot);
  });

  app.get("/api/performance", async (c) => {
    // llama-swap's answer when disabled, so its clients tell "off" from "broken".
    if (front.deps.config.performance.disabled) return c.json({ enabled: false }, 503);
    const raw = c.req.query("after");
    let after = Number.NEGATIVE_INFINITY;
    if (raw !== undefined) {
      after = Date.parse(raw);
      if (!/^\d{4}-\d\d-\d\dT/.test(raw) || Number.isNaN(after)) throw new HttpError("invalid_query", `Cannot report performance as 'after' must be an RFC 3339 time: current value is '${raw}'`);
    }
    const { sys_stats, gpu_stats } = await front.performance.current();
    return c.json({
      enabled: true,
      sys_stats: sys_stats.filter((s) => Date.parse(s.timestamp) > after),
      gpu_stats: gpu_stats.filter((s) => Date.parse(s.timestamp) > after),
    });
  });
}
