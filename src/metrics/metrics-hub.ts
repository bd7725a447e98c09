/**
 * The metrics subsystem's one object: the Activity log, the captures and the
 * Prometheus registry, fed together so a finished request is one `record`
 * call, and live listeners (the `metrics` frames of `/api/events`) hear each row.
 */
import type { Config } from "../config/types.ts";
import type { SchedulerEvent } from "../scheduler/protocol.ts";
import { ActivityLog, type ActivityEntry, type NewActivity } from "./activity.ts";
import type { CaptureInput } from "./captures.ts";
import { CaptureStore } from "./capture-store.ts";
import { createPromMetrics, type PromMetrics } from "./prometheus.ts";

/** What the hub needs of `ActivityStore` (so the hub never loads bun:sqlite itself). */
export interface ActivityStoreLike {
  add(entry: ActivityEntry): void;
  newest(limit: number): ActivityEntry[];
  lastId(): number;
}

export class MetricsHub {
  readonly activity: ActivityLog;
  readonly captures: CaptureStore;
  readonly prom: PromMetrics;
  readonly #listeners = new Set<(e: ActivityEntry) => void>();

  /** Where finished rows are also written (`store.path`), or null for memory only. */
  readonly #store: ActivityStoreLike | null;

  constructor(config: Pick<Config, "metricsMaxInMemory" | "captureBuffer">, store: ActivityStoreLike | null = null) {
    this.activity = new ActivityLog(config.metricsMaxInMemory);
    this.captures = new CaptureStore(config.captureBuffer * 1024 * 1024);
    this.prom = createPromMetrics();
    this.#store = store;
    if (store !== null) this.activity.restore(store.newest(config.metricsMaxInMemory > 0 ? config.metricsMaxInMemory : 1000), store.lastId());
  }

  /**
   * Stores one finished request (and its capture, when captures are on),
   * counts it, and tells the listeners.
   *
   * @example
   * ```ts
   * hub.record(row, { reqPath: row.req_path, reqHeaders, reqBody, respHeaders, respBody });
   * ```
   */
  record(row: NewActivity | ActivityEntry, capture?: Omit<CaptureInput, "id">): ActivityEntry {
    const entry = this.activity.add(row);
    if (capture !== undefined && this.captures.enabled) entry.has_capture = this.captures.add({ ...capture, id: entry.id });
    this.prom.observeActivity(entry);
    try {
      this.#store?.add(entry);
    } catch {
      // A full disk or a locked file must not fail the request that just finished; the row stays in memory.
    }
    // Checked first: iterating even an empty Set makes an iterator object, and this runs per request.
    if (this.#listeners.size > 0) {
      for (const l of this.#listeners) {
        try {
          l(entry);
        } catch {
          // A listener's stream handles its own failures.
        }
      }
    }
    return entry;
  }

  /** Rows with `has_capture` as it is now (a capture may have been dropped for room). */
  withCaptureState(rows: ActivityEntry[]): ActivityEntry[] {
    return rows.map((r) => (r.has_capture && !this.captures.has(r.id) ? { ...r, has_capture: false } : r));
  }

  observeEvent(e: SchedulerEvent): void {
    this.prom.observeEvent(e);
  }

  /** Live rows; returns the unsubscribe function. */
  onActivity(listener: (e: ActivityEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
