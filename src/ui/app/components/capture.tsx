/** The capture of one request: its headers and bodies, decoded from base64 as text. */
import { useEffect, useState } from "hono/jsx/dom";
import { errorText } from "../api.ts";
import type { Capture } from "../../../metrics/captures.ts";

/** base64 → text (UTF-8), pretty-printed when it is JSON. */
function decode(b64: string): string {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function Headers({ h }: { h: Record<string, string> }) {
  return <pre>{Object.entries(h).map(([k, v]) => `${k}: ${v}`).join("\n")}</pre>;
}

export function CaptureDialog({ id, onClose }: { id: number; onClose: () => void }) {
  const [cap, setCap] = useState<Capture | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    void fetch(`/api/captures/${id}`).then(async (res) => (res.ok ? setCap((await res.json()) as Capture) : setError(await errorText(res))));
  }, [id]);
  return (
    <div class="overlay" onClick={onClose}>
      <div class="dialog" data-testid="capture" onClick={(e: Event) => e.stopPropagation()}>
        <div class="toolbar">
          <h2>Capture #{id}</h2>
          <button onClick={onClose}>Close</button>
        </div>
        {error && <p class="error">{error}</p>}
        {cap && (
          <div class="capture">
            <h3>Request {cap.req_path}</h3>
            <Headers h={cap.req_headers} />
            <pre data-testid="capture-request">{decode(cap.req_body)}</pre>
            <h3>Response</h3>
            <Headers h={cap.resp_headers} />
            <pre data-testid="capture-response">{decode(cap.resp_body)}</pre>
          </div>
        )}
      </div>
    </div>
  );
}
