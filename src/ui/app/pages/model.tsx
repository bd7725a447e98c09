/** One model: its state, error, Load / Unload, and its own live log. */
import { useState } from "hono/jsx/dom";
import { duration, idPath, loadModel, unloadModel, useLive, useTick } from "../api.ts";
import { ErrorBox, StateBadge } from "../components/state-badge.tsx";
import { LogView, useTextStream } from "../components/log-view.tsx";

export function ModelPage({ id }: { id: string }) {
  const s = useLive();
  const now = useTick(1000);
  const [message, setMessage] = useState("");
  const lines = useTextStream(`/logs/stream/${idPath(id)}`);
  const m = s.models.find((x) => x.id === id);
  if (m === undefined) return <p class="empty">{s.loaded ? `No model '${id}' is configured.` : "Connecting…"}</p>;
  const act = (f: (id: string) => Promise<void>) => () => void f(id).catch((e: unknown) => setMessage(e instanceof Error ? e.message : String(e)));
  return (
    <section>
      <div class="toolbar">
        <h1>{m.id}</h1>
        <StateBadge m={m} now={now} />
        <button data-testid={`load-${m.id}`} onClick={act(loadModel)}>
          Load
        </button>
        <button data-testid={`unload-${m.id}`} onClick={act(unloadModel)}>
          Unload
        </button>
      </div>
      {message && <p class="error">{message}</p>}
      <dl class="facts">
        {m.name && <><dt>Name</dt><dd>{m.name}</dd></>}
        {m.description && <><dt>Description</dt><dd>{m.description}</dd></>}
        {m.aliases && m.aliases.length > 0 && <><dt>Aliases</dt><dd>{m.aliases.join(", ")}</dd></>}
        <dt>In flight / queued</dt>
        <dd>
          {m.inFlight ?? 0} / {m.queued ?? 0}
        </dd>
        {m.state === "ready" && m.since !== undefined && <><dt>Uptime</dt><dd>{duration(now - m.since)}</dd></>}
      </dl>
      <ErrorBox m={m} />
      <h2>Log</h2>
      <LogView lines={lines} testid="model-log" />
    </section>
  );
}
