/**
 * The Activity log: one row per proxied request, newest `metricsMaxInMemory`
 * kept, served in llama-swap's shapes (`/api/metrics/activity` pages and
 * `/api/metrics/stats` totals with speed histograms).
 */
import type { TokenMetrics } from "./tokens.ts";

/** llama-swap's `ActivityLogEntry`, plus modelswap's `ttfb_ms` and `bytes`. */
export interface ActivityEntry {
  id: number;
  /** ISO 8601 time the request arrived. */
  timestamp: string;
  model: string;
  req_path: string;
  resp_content_type: string;
  resp_status_code: number;
  tokens: TokenMetrics;
  duration_ms: number;
  has_capture: boolean;
  error_msg?: string;
  metadata?: Record<string, string>;
  /** modelswap: ms from arrival to the first response byte. */
  ttfb_ms: number;
  /** modelswap: response body bytes sent. */
  bytes: number;
}

/** A row before it gets its id. */
export type NewActivity = Omit<ActivityEntry, "id" | "has_capture">;

/** llama-swap's sortable columns → the row's value. */
const SORT: Record<string, (e: ActivityEntry) => number | string> = {
  id: (e) => e.id,
  time: (e) => e.timestamp,
  model: (e) => e.model,
  req_path: (e) => e.req_path,
  resp_status_code: (e) => e.resp_status_code,
  resp_content_type: (e) => e.resp_content_type,
  cached: (e) => e.tokens.cache_tokens,
  prompt: (e) => e.tokens.input_tokens,
  generated: (e) => e.tokens.output_tokens,
  drafted: (e) => e.tokens.draft_tokens,
  prompt_speed: (e) => e.tokens.prompt_per_second,
  gen_speed: (e) => e.tokens.tokens_per_second,
  duration: (e) => e.duration_ms,
  ttfb: (e) => e.ttfb_ms,
};

/** Whether `key` is a column `/api/metrics/activity?sort=` accepts. */
export function isSortKey(key: string): boolean {
  return Object.hasOwn(SORT, key);
}

export interface ActivityQuery {
  models: string[];
  /** Status filter (modelswap): `ok` 2xx, `error` everything else, or an exact code. */
  status: string | null;
  minId: number;
  maxId: number;
  /** Inclusive bounds on the timestamp (ms), 0 unbounded. */
  start: number;
  end: number;
  limit: number;
  page: number;
  sort: string;
  order: "asc" | "desc";
}

/** llama-swap's `ActivityPage`. */
export interface ActivityPage {
  data: ActivityEntry[];
  page: number;
  limit: number;
  total: number;
  total_pages: number;
}

/** llama-swap's `HistogramData`. */
export interface Histogram {
  bins: number[];
  min: number;
  max: number;
  binSize: number;
  p50: number;
  p95: number;
  p99: number;
}

/** llama-swap's `ActivityStats`. */
export interface ActivityStats {
  total_requests: number;
  total_input_tokens: number;
  total_output_tokens: number;
  total_cache_tokens: number;
  prompt_histogram: Histogram | null;
  gen_histogram: Histogram | null;
}

function statusMatches(filter: string | null, code: number): boolean {
  if (filter === null) return true;
  if (filter === "ok") return code >= 200 && code < 300;
  if (filter === "error") return code < 200 || code >= 300;
  return String(code) === filter;
}

/**
 * The newest `max` rows in memory (llama-swap prunes the same way), ids never reused.
 *
 * @example
 * ```ts
 * const log = new ActivityLog(1000);
 * const row = log.add({ ...newRow });
 * log.list({ ...DEFAULT_QUERY, models: ["llama"] });
 * ```
 */
export class ActivityLog {
  /** A ring of at most `#max` rows; once full, the oldest is at `#oldest`. */
  #rows: ActivityEntry[] = [];
  #oldest = 0;
  #nextId = 1;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max > 0 ? max : 1000;
  }

  /** Puts back rows kept elsewhere (the SQLite store), oldest first; new ids continue after `lastId`. */
  restore(rows: readonly ActivityEntry[], lastId: number): void {
    this.#rows = rows.slice(-this.#max);
    this.#oldest = 0;
    this.#nextId = Math.max(this.#nextId, lastId + 1);
  }

  /**
   * Stores a row and returns it with its id: the row itself, given its `id`
   * and `has_capture` in place (pass a new object; one made with both already
   * in it keeps its shape). Why not a copy: one more object per proxied
   * request, and rows are what a burst leaves behind.
   */
  add(row: NewActivity | ActivityEntry, hasCapture = false): ActivityEntry {
    const entry = row as ActivityEntry;
    entry.id = this.#nextId++;
    entry.has_capture = hasCapture;
    if (this.#rows.length < this.#max) this.#rows.push(entry);
    else {
      this.#rows[this.#oldest] = entry;
      this.#oldest = (this.#oldest + 1) % this.#max;
    }
    return entry;
  }

  /** The kept rows, oldest first. */
  all(): ActivityEntry[] {
    return this.#oldest === 0 ? this.#rows.slice() : [...this.#rows.slice(this.#oldest), ...this.#rows.slice(0, this.#oldest)];
  }

  get(id: number): ActivityEntry | undefined {
    return this.all().find((e) => e.id === id);
  }

  /** One page of rows matching `q`, sorted (ties by id). */
  list(q: ActivityQuery): ActivityPage {
    const key = SORT[q.sort] ?? SORT.id!;
    const dir = q.order === "asc" ? 1 : -1;
    const rows = this.all()
      .filter((e) => q.models.length === 0 || q.models.includes(e.model))
      .filter((e) => statusMatches(q.status, e.resp_status_code))
      .filter((e) => (q.minId === 0 || e.id >= q.minId) && (q.maxId === 0 || e.id <= q.maxId))
      .filter((e) => {
        const t = Date.parse(e.timestamp);
        return (q.start === 0 || t >= q.start) && (q.end === 0 || t <= q.end);
      })
      .sort((a, b) => {
        const x = key(a);
        const y = key(b);
        if (x < y) return -dir;
        if (x > y) return dir;
        return (a.id - b.id) * dir;
      });
    const from = (q.page - 1) * q.limit;
    return { data: rows.slice(from, from + q.limit), page: q.page, limit: q.limit, total: rows.length, total_pages: Math.ceil(rows.length / q.limit) };
  }

  /** Totals and speed histograms, for one model or all (`model` ""). */
  stats(model: string): ActivityStats {
    const rows = this.all().filter((e) => model === "" || e.model === model);
    const stats: ActivityStats = { total_requests: rows.length, total_input_tokens: 0, total_output_tokens: 0, total_cache_tokens: 0, prompt_histogram: null, gen_histogram: null };
    const prompt: number[] = [];
    const gen: number[] = [];
    for (const r of rows) {
      stats.total_input_tokens += r.tokens.input_tokens;
      stats.total_output_tokens += r.tokens.output_tokens;
      if (r.tokens.cache_tokens > 0) stats.total_cache_tokens += r.tokens.cache_tokens;
      if (r.tokens.prompt_per_second > 0) prompt.push(r.tokens.prompt_per_second);
      if (r.tokens.tokens_per_second > 0) gen.push(r.tokens.tokens_per_second);
    }
    stats.prompt_histogram = histogram(prompt);
    stats.gen_histogram = histogram(gen);
    return stats;
  }
}

/** The query llama-swap uses when none is given: page 1, 25 rows, newest first. */
export const DEFAULT_QUERY: ActivityQuery = { models: [], status: null, minId: 0, maxId: 0, start: 0, end: 0, limit: 25, page: 1, sort: "id", order: "desc" };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

/** llama-swap's histogram: Sturges' bin count clamped to 5..20, percentiles interpolated; null for no values. */
export function histogram(values: number[]): Histogram | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  const p = { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
  if (min === max) return { bins: [values.length], min, max, binSize: 0, ...p };
  const count = Math.min(20, Math.max(5, Math.ceil(Math.log2(values.length)) + 1));
  const binSize = (max - min) / count;
  const bins = new Array<number>(count).fill(0);
  for (const v of values) bins[Math.min(Math.floor((v - min) / binSize), count - 1)]!++;
  return { bins, min, max, binSize, ...p };
}
