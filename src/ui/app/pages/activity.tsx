/** Activity: every proxied request with its token metrics, filters, a chart and the capture viewer. */
import { useEffect, useState } from "hono/jsx/dom";
import type { ActivityEntry, ActivityPage as Page } from "../../../metrics/activity.ts";
import { count, rate, useLive } from "../api.ts";
import { mergeActivity } from "../live.ts";
import { ActivityChart } from "../components/chart.tsx";
import { CaptureDialog } from "../components/capture.tsx";

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)}s` : `${n}ms`;
}

export function ActivityPage() {
  const s = useLive();
  const [history, setHistory] = useState<ActivityEntry[]>([]);
  const [model, setModel] = useState("");
  const [status, setStatus] = useState("");
  const [capture, setCapture] = useState<number | null>(null);
  useEffect(() => {
    void fetch("/api/metrics/activity?limit=999")
      .then((r) => r.json() as Promise<Page>)
      .then((p) => setHistory(p.data))
      .catch(() => undefined);
  }, []);
  const all = mergeActivity(history, s.activity);
  const rows = all.filter((r) => (model === "" || r.model === model) && (status === "" || (status === "ok" ? r.resp_status_code < 300 : r.resp_status_code >= 300)));
  const models = [...new Set(all.map((r) => r.model))].sort();
  return (
    <section>
      <div class="toolbar">
        <h1>Activity</h1>
        <select data-testid="activity-model" value={model} onChange={(e: Event) => setModel((e.target as HTMLSelectElement).value)}>
          <option value="">all models</option>
          {models.map((m) => (
            <option value={m}>{m}</option>
          ))}
        </select>
        <select data-testid="activity-status" value={status} onChange={(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">any status</option>
          <option value="ok">2xx</option>
          <option value="error">errors</option>
        </select>
        <span class="muted">{rows.length} requests</span>
      </div>
      <ActivityChart rows={rows} />
      <table class="activity" data-testid="activity-table">
        <thead>
          <tr>
            <th class="num">#</th>
            <th>Time</th>
            <th>Model</th>
            <th>Path</th>
            <th class="num">Status</th>
            <th class="num">Prompt</th>
            <th class="num">Generated</th>
            <th class="num">Cached</th>
            <th class="num">Prompt t/s</th>
            <th class="num">Gen t/s</th>
            <th class="num">TTFB</th>
            <th class="num">Duration</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr data-testid={`activity-${r.id}`} class={r.resp_status_code >= 400 ? "failed-row" : ""} title={r.error_msg ?? ""}>
              <td class="num">{r.id}</td>
              <td>{new Date(r.timestamp).toLocaleTimeString()}</td>
              <td>{r.model}</td>
              <td>{r.req_path}</td>
              <td class="num">{r.resp_status_code}</td>
              <td class="num" data-col="prompt">{count(r.tokens.input_tokens)}</td>
              <td class="num" data-col="generated">{count(r.tokens.output_tokens)}</td>
              <td class="num">{count(r.tokens.cache_tokens)}</td>
              <td class="num">{rate(r.tokens.prompt_per_second)}</td>
              <td class="num">{rate(r.tokens.tokens_per_second)}</td>
              <td class="num">{ms(r.ttfb_ms)}</td>
              <td class="num">{ms(r.duration_ms)}</td>
              <td>
                {r.has_capture && (
                  <button class="small" data-testid={`capture-${r.id}`} onClick={() => setCapture(r.id)}>
                    View
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="empty">No requests yet.</p>}
      {capture !== null && <CaptureDialog id={capture} onClose={() => setCapture(null)} />}
    </section>
  );
}
