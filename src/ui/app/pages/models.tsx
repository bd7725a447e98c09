/** Models: every model with its state, load, uptime and Load / Unload buttons. */
import { useState } from "hono/jsx/dom";
import { duration, loadModel, unloadAll, unloadModel, useLive, useTick } from "../api.ts";
import type { ModelRow } from "../live.ts";
import { ErrorBox, StateBadge } from "../components/state-badge.tsx";

const RUNNING = new Set(["starting", "ready", "stopping"]);

function Actions({ m, onError }: { m: ModelRow; onError: (msg: string) => void }) {
  if (m.peerID) return <span class="muted">peer {m.peerID}</span>;
  // The row shows a failed start in full; the banner only says which click failed.
  const run = (f: (id: string) => Promise<void>) => () =>
    void f(m.id).catch((e: unknown) => onError(`${m.id}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`));
  return (
    <span class="actions">
      <button data-testid={`load-${m.id}`} disabled={RUNNING.has(m.state)} onClick={run(loadModel)}>
        Load
      </button>
      <button data-testid={`unload-${m.id}`} disabled={!RUNNING.has(m.state)} onClick={run(unloadModel)}>
        Unload
      </button>
    </span>
  );
}

export function ModelsPage() {
  const s = useLive();
  const now = useTick(1000);
  const [message, setMessage] = useState("");
  const [showUnlisted, setShowUnlisted] = useState(false);
  const models = s.models.filter((m) => showUnlisted || !m.unlisted);
  return (
    <section>
      <div class="toolbar">
        <h1>Models</h1>
        <label>
          <input type="checkbox" checked={showUnlisted} onChange={(e: Event) => setShowUnlisted((e.target as HTMLInputElement).checked)} /> show unlisted
        </label>
        <button onClick={() => void unloadAll().catch((e: unknown) => setMessage(String(e)))}>Unload all</button>
      </div>
      {message && (
        <p class="error" onClick={() => setMessage("")}>
          {message}
        </p>
      )}
      {!s.loaded ? (
        <p class="empty">Connecting…</p>
      ) : (
        <table class="models">
          <thead>
            <tr>
              <th>Model</th>
              <th>State</th>
              <th class="num">In flight</th>
              <th class="num">Queued</th>
              <th class="num">Uptime</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr data-testid={`model-${m.id}`}>
                <td>
                  <a href={`#/model/${encodeURIComponent(m.id)}`} class="model-id">
                    {m.id}
                  </a>
                  {m.name && m.name !== m.id && <span class="muted"> {m.name}</span>}
                  {m.aliases && m.aliases.length > 0 && <div class="aliases">aliases: {m.aliases.join(", ")}</div>}
                  {m.description && <div class="muted small">{m.description}</div>}
                  <ErrorBox m={m} />
                </td>
                <td>
                  <StateBadge m={m} now={now} />
                </td>
                <td class="num">{m.inFlight ?? 0}</td>
                <td class="num">{m.queued ?? 0}</td>
                <td class="num">{m.state === "ready" && m.since ? duration(now - m.since) : ""}</td>
                <td>
                  <Actions m={m} onError={setMessage} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
