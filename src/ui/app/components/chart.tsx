/**
 * Tokens/s and requests over time, drawn with uPlot from the activity rows:
 * one point per minute (generation speed averaged, requests counted).
 */
import { useEffect, useRef } from "hono/jsx/dom";
import uPlot from "uplot";
import type { ActivityEntry } from "../../../metrics/activity.ts";
import { perMinute } from "../frames.ts";

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
      scales: { x: { time: true } },
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
