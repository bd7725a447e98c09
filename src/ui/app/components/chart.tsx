/**
 * Tokens/s and requests over time, drawn with uPlot from the activity rows:
 * one point per minute (generation speed averaged, requests counted).
 */
import { useEffect, useRef } from "hono/jsx/dom";
import uPlot from "uplot";
import type { ActivityEntry } from "../../../metrics/activity.ts";

/** Per-minute series: [minute start (s)], [mean generation tokens/s or null], [requests]. */
export function perMinute(rows: ActivityEntry[]): [number[], Array<number | null>, number[]] {
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
  return [xs, xs.map((x) => (buckets.get(x)!.speeds > 0 ? buckets.get(x)!.speed / buckets.get(x)!.speeds : null)), xs.map((x) => buckets.get(x)!.requests)];
}

export function ActivityChart({ rows }: { rows: ActivityEntry[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 180,
      series: [
        {},
        { label: "gen tokens/s", stroke: "#2f7de1", width: 2, scale: "tps", spanGaps: true },
        { label: "requests/min", stroke: "#e07b24", width: 2, scale: "req", paths: uPlot.paths.bars!({ size: [0.5] }) },
      ],
      axes: [{}, { scale: "tps", label: "tokens/s" }, { scale: "req", side: 1, label: "requests", grid: { show: false } }],
      // At least the last half hour, so a few points do not stretch over an auto-ranged span of years.
      scales: { x: { time: true, range: (_u, min, max) => (min === null || max === null ? [Date.now() / 1000 - 1800, Date.now() / 1000 + 60] : [Math.min(min, max - 1800), max + 60]) } },
    };
    plot.current = new uPlot(opts, perMinute(rows) as uPlot.AlignedData, el);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(perMinute(rows) as uPlot.AlignedData);
  }, [rows]);
  return <div class="chart" ref={box} data-testid="activity-chart" />;
}
