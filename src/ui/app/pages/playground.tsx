/**
 * Playground: a streaming chat with any model (Stop aborts the request, which
 * cancels it upstream), and a concurrency test that sends N requests at once
 * across chosen models so swaps can be watched happening.
 */
import { useRef, useState } from "hono/jsx/dom";
import { errorText, lineBatches, useLive } from "../api.ts";

interface Message {
  role: "user" | "assistant";
  content: string;
}

/** Reads an OpenAI chat stream, calling `onDelta` with each content piece. */
async function streamChat(body: unknown, signal: AbortSignal, onDelta: (text: string, reasoning: boolean) => void): Promise<void> {
  const res = await fetch("/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal });
  if (!res.ok || res.body === null) throw new Error(await errorText(res));
  for await (const lines of lineBatches(res.body)) {
    for (const line of lines) {
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") return;
      try {
        const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string; reasoning_content?: string } }>; error?: { message?: string } };
        if (chunk.error) throw new Error(chunk.error.message ?? "stream error");
        const delta = chunk.choices?.[0]?.delta;
        if (delta?.reasoning_content) onDelta(delta.reasoning_content, true);
        if (delta?.content) onDelta(delta.content, false);
      } catch (e) {
        if (e instanceof SyntaxError) continue;
        throw e;
      }
    }
  }
}

function Chat({ models }: { models: string[] }) {
  const [model, setModel] = useState("");
  const [system, setSystem] = useState("");
  const [input, setInput] = useState("");
  const [messages, setMessages] = useState<Message[]>([]);
  const [loading, setLoading] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const ctrl = useRef<AbortController | null>(null);
  const chosen = model || models[0] || "";

  const send = async () => {
    if (input.trim() === "" || chosen === "") return;
    const history: Message[] = [...messages, { role: "user", content: input }];
    setMessages([...history, { role: "assistant", content: "" }]);
    setInput("");
    setError("");
    setLoading("");
    setBusy(true);
    const c = new AbortController();
    ctrl.current = c;
    let reply = "";
    const all = system.trim() === "" ? history : [{ role: "system", content: system }, ...history];
    try {
      await streamChat({ model: chosen, messages: all, stream: true, stream_options: { include_usage: true } }, c.signal, (text, reasoning) => {
        if (reasoning) setLoading((l) => l + text);
        else {
          reply += text;
          setMessages([...history, { role: "assistant", content: reply }]);
        }
      });
    } catch (e) {
      if (c.signal.aborted) setError("stopped");
      else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
      ctrl.current = null;
    }
  };

  return (
    <div class="chat">
      <div class="toolbar">
        <select data-testid="chat-model" value={chosen} onChange={(e: Event) => setModel((e.target as HTMLSelectElement).value)}>
          {models.map((m) => (
            <option value={m}>{m}</option>
          ))}
        </select>
        <button onClick={() => setMessages([])} disabled={busy}>
          Clear
        </button>
      </div>
      <textarea class="system" placeholder="system prompt (optional)" value={system} onInput={(e: Event) => setSystem((e.target as HTMLTextAreaElement).value)} />
      <div class="messages" data-testid="chat-messages">
        {messages.map((m) => (
          <div class={`msg ${m.role}`}>
            <b>{m.role}</b>
            <span>{m.content}</span>
          </div>
        ))}
        {loading && <pre class="loading">{loading}</pre>}
      </div>
      {error && <p class="error">{error}</p>}
      <div class="composer">
        <textarea
          data-testid="chat-input"
          placeholder="Say something (Enter sends, Shift+Enter for a new line)"
          value={input}
          onInput={(e: Event) => setInput((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e: KeyboardEvent) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              void send();
            }
          }}
        />
        {busy ? (
          <button data-testid="chat-stop" onClick={() => ctrl.current?.abort()}>
            Stop
          </button>
        ) : (
          <button data-testid="chat-send" onClick={() => void send()}>
            Send
          </button>
        )}
      </div>
    </div>
  );
}

interface Run {
  n: number;
  model: string;
  status: string;
  ms: number;
}

function Concurrency({ models }: { models: string[] }) {
  const [n, setN] = useState(4);
  const [picked, setPicked] = useState<string[]>([]);
  const [runs, setRuns] = useState<Run[]>([]);
  const targets = picked.length > 0 ? picked : models.slice(0, 1);
  const start = () => {
    const t0 = performance.now();
    const list: Run[] = Array.from({ length: n }, (_, i) => ({ n: i + 1, model: targets[i % targets.length]!, status: "…", ms: 0 }));
    setRuns(list);
    list.forEach((r, i) => {
      const body = { model: r.model, messages: [{ role: "user", content: `request ${r.n}` }], max_tokens: 16 };
      void fetch("/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
        .then(async (res) => ({ status: res.ok ? `${res.status}` : `${res.status} ${await errorText(res)}` }))
        .catch((e: unknown) => ({ status: String(e) }))
        .then(({ status }) => setRuns((old) => old.map((x, j) => (j === i ? { ...x, status, ms: performance.now() - t0 } : x))));
    });
  };
  return (
    <div class="concurrency">
      <div class="toolbar">
        <label>
          requests <input type="number" min="1" max="64" value={n} onInput={(e: Event) => setN(Math.max(1, Math.min(64, Number((e.target as HTMLInputElement).value) || 1)))} />
        </label>
        {models.map((m) => (
          <label>
            <input
              type="checkbox"
              checked={picked.includes(m)}
              onChange={(e: Event) => setPicked((p) => ((e.target as HTMLInputElement).checked ? [...p, m] : p.filter((x) => x !== m)))}
            />{" "}
            {m}
          </label>
        ))}
        <button data-testid="concurrency-run" onClick={start}>
          Run
        </button>
      </div>
      <table>
        <tbody>
          {runs.map((r) => (
            <tr>
              <td class="num">#{r.n}</td>
              <td>{r.model}</td>
              <td>{r.status}</td>
              <td class="num">{r.ms ? `${(r.ms / 1000).toFixed(2)}s` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">Watch the Models page (or the states below) while it runs: requests for a model that is not loaded wait while others are swapped out.</p>
    </div>
  );
}

export function PlaygroundPage() {
  const s = useLive();
  const models = s.models.filter((m) => !m.unlisted).map((m) => (m.peerID ? `${m.peerID}/${m.id}` : m.id));
  const [tab, setTab] = useState<"chat" | "concurrency">("chat");
  return (
    <section>
      <div class="toolbar">
        <h1>Playground</h1>
        <button class={tab === "chat" ? "tab active" : "tab"} onClick={() => setTab("chat")}>
          Chat
        </button>
        <button class={tab === "concurrency" ? "tab active" : "tab"} onClick={() => setTab("concurrency")}>
          Concurrency test
        </button>
      </div>
      {tab === "chat" ? <Chat models={models} /> : <Concurrency models={models} />}
      <div class="mini-states">
        {s.models
          .filter((m) => !m.peerID)
          .map((m) => (
            <span class={`badge ${m.state}`}>
              {m.id}: {m.state}
            </span>
          ))}
      </div>
    </section>
  );
}
