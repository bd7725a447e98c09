/** Logs: the proxy's, every upstream's, or one model's, live and filterable. */
import { useState } from "hono/jsx/dom";
import { idPath, useLive } from "../api.ts";
import { LogView, useTextStream } from "../components/log-view.tsx";

function ModelLog({ id }: { id: string }) {
  return <LogView lines={useTextStream(`/logs/stream/${idPath(id)}`)} testid="log-lines" />;
}

export function LogsPage() {
  const s = useLive();
  const [source, setSource] = useState("proxy");
  const local = s.models.filter((m) => !m.peerID);
  return (
    <section>
      <div class="toolbar">
        <h1>Logs</h1>
        <select data-testid="log-source" value={source} onChange={(e: Event) => setSource((e.target as HTMLSelectElement).value)}>
          <option value="proxy">proxy</option>
          <option value="upstream">upstream (all models)</option>
          {local.map((m) => (
            <option value={`model:${m.id}`}>{m.id}</option>
          ))}
        </select>
      </div>
      {source === "proxy" && <LogView lines={s.proxyLog} testid="log-lines" />}
      {source === "upstream" && <LogView lines={s.upstreamLog} testid="log-lines" />}
      {source.startsWith("model:") && <ModelLog id={source.slice(6)} />}
    </section>
  );
}
