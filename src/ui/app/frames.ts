/**
 * The page's live state and how each `/api/events` frame changes it: pure
 * functions (no DOM), so they are tested without a browser.
 */
import type { ActivityEntry } from "../../metrics/activity.ts";
import type { EventMessageOf, LlamaModel } from "../wire.ts";

/** One model as `/api/events` `modelStatus` rows carry it (llama-swap's fields, then modelswap's). */
export type ModelRow = LlamaModel;

export interface LiveState {
  connected: boolean;
  /** True once the first batch arrived (before that, nothing to show). */
  loaded: boolean;
  models: ModelRow[];
  proxyLog: string[];
  upstreamLog: string[];
  /** Newest first, by id. */
  activity: ActivityEntry[];
  inflight: number;
}

/** Lines kept per log in the page. */
const MAX_LINES = 2000;
/** Activity rows kept in the page. */
const MAX_ROWS = 1000;

/** What the page reads of a frame: llama-swap's type and data, and modelswap's event behind it (absent on connect-time snapshot frames). */
export type Frame = Pick<EventMessageOf<{ kind: string; model?: string; inFlight?: number; queued?: number }>, "type" | "data" | "event">;

/** Appends `text` (`\n`-terminated lines) to `lines`, bounded. */
export function appendLines(lines: string[], text: string): string[] {
  if (text === "") return lines;
  const added = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  const out = lines.concat(added);
  return out.length > MAX_LINES ? out.slice(-MAX_LINES) : out;
}

/** Merges rows into the newest-first list, each id once. */
export function mergeActivity(rows: ActivityEntry[], added: ActivityEntry[]): ActivityEntry[] {
  const byId = new Map<number, ActivityEntry>();
  for (const r of rows) byId.set(r.id, r);
  for (const r of added) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, MAX_ROWS);
}

/** Applies one frame to the state (pure, so it is testable without a browser). */
export function applyFrame(s: LiveState, f: Frame): LiveState {
  switch (f.type) {
    case "modelStatus":
      return { ...s, loaded: true, models: JSON.parse(f.data) as ModelRow[] };
    case "logData": {
      const d = JSON.parse(f.data) as { source: string; data: string };
      if (d.source === "proxy") return { ...s, proxyLog: appendLines(s.proxyLog, d.data) };
      return { ...s, upstreamLog: appendLines(s.upstreamLog, d.data) };
    }
    case "metrics":
      return { ...s, activity: mergeActivity(s.activity, JSON.parse(f.data) as ActivityEntry[]) };
    case "inflight": {
      const total = (JSON.parse(f.data) as { total: number }).total;
      const e = f.event;
      // llama-swap's frame carries only the total; modelswap's event says which model and how many.
      if (e?.kind !== "inflight" || e.model === undefined) return { ...s, inflight: total };
      const models = s.models.map((m) => (m.id === e.model && !m.peerID ? { ...m, inFlight: e.inFlight ?? 0, queued: e.queued ?? 0 } : m));
      return { ...s, inflight: total, models };
    }
    default:
      return s;
  }
}

/**
 * Per-minute series: [minute start (s)], [mean generation tokens/s or null], [requests or null],
 * framed by empty points half an hour before and a minute after (uPlot stretches a lone point over years).
 */
export function perMinute(rows: ActivityEntry[], now = Date.now()): [number[], Array<number | null>, Array<number | null>] {
  const buckets = new Map<number, { speed: number; speeds: number; requests: number }>();
  for (const r of rows) {
    const minute = Math.floor(Date.parse(r.timestamp) / 60_000) * 60;
    const b = buckets.get(minute) ?? { speed: 0, speeds: 0, requests: 0 };
    b.requests++;
    if (r.tokens.tokens_per_second > 0) {
      b.speed += r.tokens.tokens_per_second;
      b.speeds++;
    }
    buckets.set(minute, b);
  }
  const xs = [...buckets.keys()].sort((a, b) => a - b);
  const last = Math.max(xs.at(-1) ?? 0, Math.floor(now / 60_000) * 60);
  const first = Math.min(xs[0] ?? last, last - 1800);
  const all = [first, ...xs.filter((x) => x > first && x < last + 60), last + 60];
  return [
    all,
    all.map((x) => (buckets.get(x)?.speeds ? buckets.get(x)!.speed / buckets.get(x)!.speeds : null)),
    all.map((x) => buckets.get(x)?.requests ?? null),
  ];
}
