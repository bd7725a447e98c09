/**
 * The `/ui/` page: one self-contained HTML document (inline style and script,
 * no external assets, no build step) showing the models and their states, the
 * in-flight total and the live logs from `/api/events`, with Unload buttons.
 * Every string from the server reaches the DOM through `textContent`.
 */
import { FRAME_UPDATE_BODY, FRAME_UPDATE_PARAM, MAX_LOG_LINES } from "./model.ts";

/** The page's stylesheet: system colours, readable in light and dark mode. */
/** Where the page lives (`GET /logs` sends browsers here, as llama-swap does). */
export const UI_PATH = "/ui/";

export const UI_STYLE = String.raw`
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1b1b; --muted: #5c5c5c; --line: #d0d0d0; --panel: #f5f5f5;
  --ok: #116329; --busy: #8a5a00; --off: #5c5c5c; --accent: #0b57d0; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #161616; --fg: #e8e8e8; --muted: #a8a8a8; --line: #3a3a3a; --panel: #0e0e0e;
    --ok: #6fdc8c; --busy: #f1c21b; --off: #a8a8a8; --accent: #8ab4f8; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, sans-serif; }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; padding-top: 1rem; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
.muted { color: var(--muted); font-size: 0.9em; font-weight: normal; }
section > .bar { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; justify-content: space-between; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.state { font-weight: 600; color: var(--off); }
td.state[data-state="ready"] { color: var(--ok); }
td.state[data-state="starting"], td.state[data-state="stopping"] { color: var(--busy); }
button, select { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 0.2rem 0.7rem; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: 0.5; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
#log { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; height: 28rem; overflow: auto;
  margin: 0.5rem 0 2rem; padding: 0.5rem; font: 12.5px/1.4 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
#log > div { min-height: 1.4em; }
#log > .upstream { color: var(--muted); }
#log[data-filter="proxy"] > .upstream, #log[data-filter="upstream"] > .proxy { display: none; }
`;

/** The page's script: connects to `/api/events`, draws updates from `frameUpdate`, posts unloads. */
export const UI_SCRIPT = String.raw`
"use strict";
function frameUpdate(${FRAME_UPDATE_PARAM}) {${FRAME_UPDATE_BODY}}
const byId = (id) => document.getElementById(id);
const modelsBody = byId("models-body");
const inflight = byId("inflight");
const connection = byId("connection");
const status = byId("status");
const log = byId("log");
const follow = byId("follow");
const unloadAll = byId("unload-all");

async function post(path, label) {
  status.textContent = label + "...";
  try {
    const res = await fetch(path, { method: "POST", credentials: "same-origin" });
    status.textContent = label + (res.ok ? ": done" : ": failed (HTTP " + res.status + ")");
  } catch (err) {
    status.textContent = label + ": failed (" + String(err) + ")";
  }
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function renderModels(models) {
  const rows = models.map((m) => {
    const tr = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = m.id;
    const about = [m.name !== m.id ? m.name : "", m.description, m.unlisted ? "(unlisted)" : ""].filter((s) => s !== "").join(" - ");
    if (about !== "") {
      const small = document.createElement("div");
      small.className = "muted";
      small.textContent = about;
      name.append(small);
    }
    const state = cell(m.peerID !== "" ? "peer: " + m.peerID : m.state || "unknown");
    state.className = "state";
    state.dataset.state = m.peerID !== "" ? "peer" : m.state;
    const actions = document.createElement("td");
    if (m.running) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Unload";
      button.setAttribute("aria-label", "Unload " + m.id);
      const path = "/api/models/unload/" + m.id.split("/").map(encodeURIComponent).join("/");
      button.addEventListener("click", () => post(path, "Unload " + m.id));
      actions.append(button);
    }
    tr.append(name, state, actions);
    return tr;
  });
  if (rows.length === 0) {
    const empty = cell("No models configured.");
    empty.colSpan = 3;
    rows.push(document.createElement("tr"));
    rows[0].append(empty);
  }
  modelsBody.replaceChildren(...rows);
  unloadAll.disabled = !models.some((m) => m.running);
}

function appendLog(source, lines) {
  const batch = document.createDocumentFragment();
  for (const line of lines) {
    const div = document.createElement("div");
    div.className = source;
    div.textContent = line;
    batch.append(div);
  }
  log.append(batch);
  while (log.childElementCount > ${MAX_LOG_LINES}) log.firstElementChild.remove();
  if (follow.checked) log.scrollTop = log.scrollHeight;
}

function connect() {
  connection.textContent = "connecting";
  const events = new EventSource("/api/events");
  // Each connection starts with the full log history, so the panel starts over.
  events.addEventListener("open", () => {
    connection.textContent = "live";
    log.replaceChildren();
  });
  events.addEventListener("message", (ev) => {
    let envelope;
    try {
      envelope = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    const update = frameUpdate(envelope);
    if (update === null) return;
    if (update.kind === "models") renderModels(update.models);
    else if (update.kind === "inflight") inflight.textContent = String(update.total);
    else if (update.kind === "log") appendLog(update.source, update.lines);
  });
  // Reconnect by hand (not with Last-Event-ID): a fresh snapshot is simpler than merging a replay.
  events.addEventListener("error", () => {
    events.close();
    connection.textContent = "disconnected, retrying";
    setTimeout(connect, 2000);
  });
}

unloadAll.addEventListener("click", () => post("/api/models/unload", "Unload all"));
byId("log-filter").addEventListener("change", (ev) => {
  log.dataset.filter = ev.target.value;
});
byId("clear-log").addEventListener("click", () => log.replaceChildren());
fetch("/api/version", { credentials: "same-origin" })
  .then((res) => (res.ok ? res.json() : null))
  .then((v) => {
    if (v !== null && typeof v.version === "string") byId("version").textContent = "version " + v.version;
  })
  .catch(() => {});
connect();
`;

/**
 * The whole `/ui/` document (why: served from memory, so the compiled binary needs no asset files).
 *
 * @example
 * ```ts
 * new Response(UI_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
 * ```
 */
export const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>modelswap</title>
<style>${UI_STYLE}</style>
</head>
<body>
<header>
  <h1>modelswap</h1>
  <span class="muted" id="version"></span>
  <span>Events: <strong id="connection" role="status">connecting</strong></span>
  <span>In flight: <strong id="inflight">0</strong></span>
</header>
<main>
  <section aria-labelledby="models-title">
    <div class="bar">
      <h2 id="models-title">Models</h2>
      <button type="button" id="unload-all" disabled>Unload all</button>
    </div>
    <p class="muted" id="status" role="status" aria-live="polite"></p>
    <table>
      <thead><tr><th scope="col">Model</th><th scope="col">State</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
      <tbody id="models-body"><tr><td colspan="3" class="muted">Waiting for /api/events...</td></tr></tbody>
    </table>
  </section>
  <section aria-labelledby="log-title">
    <div class="bar">
      <h2 id="log-title">Logs</h2>
      <span>
        <label for="log-filter">Show</label>
        <select id="log-filter">
          <option value="all">proxy and upstream</option>
          <option value="proxy">proxy only</option>
          <option value="upstream">upstream only</option>
        </select>
        <label><input type="checkbox" id="follow" checked> Auto-scroll</label>
        <button type="button" id="clear-log">Clear</button>
      </span>
    </div>
    <div id="log" role="log" aria-labelledby="log-title" tabindex="0" data-filter="all"></div>
  </section>
</main>
<script>${UI_SCRIPT}</script>
</body>
</html>
`;
