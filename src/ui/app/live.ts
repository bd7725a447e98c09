/**
 * Everything the pages show that changes by itself, kept current over one
 * `/api/events` stream. The browser's EventSource reconnects on its own and
 * sends `Last-Event-ID`, so modelswap replays exactly the events after the
 * last one seen: nothing lost, nothing repeated. While the stream is down the
 * state is marked stale.
 */
import type { ActivityEntry } from "../../metrics/activity.ts";

/** One model as `/api/events` `modelStatus` rows carry it (llama-swap's fields, then modelswap's). */
export interface ModelRow {
  id: string;
  name: string;
  description: string;
  /** llama-swap's states, plus `failed` (gave up or waiting for a request) and `backoff` (waiting to retry). */
  state: string;
  unlisted: boolean;
  peerID: string;
  aliases?: string[];
  inFlight?: number;
  queued?: number;
  /** Wall time (ms) the model entered its state. */
  since?: number;
  /** The last start failure or crash, with the server's last lines. */
  error?: string | null;
  /** Wall time (ms) a request may start it again. */
  retryAt?: number | null;
}

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

interface Frame {
  type: string;
  data: string;
}

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
    case "inflight":
      return { ...s, inflight: (JSON.parse(f.data) as { total: number }).total };
    default:
      return s;
  }
}

type Listener = (s: LiveState) => void;

/** The one connection of the page and its state. */
export class Live {
  state: LiveState = { connected: false, loaded: false, models: [], proxyLog: [], upstreamLog: [], activity: [], inflight: 0 };
  readonly #listeners = new Set<Listener>();
  #source: EventSource | null = null;
  /** The last event id seen (`id:` of hub events), for a fresh connection to resume from. */
  #lastId = "";

  start(): void {
    // A fresh EventSource (after the browser gave up) resumes with ?since=, as a reconnect would with Last-Event-ID.
    const es = new EventSource(this.#lastId === "" ? "/api/events" : `/api/events?since=${encodeURIComponent(this.#lastId)}`);
    this.#source = es;
    es.addEventListener("open", () => this.#set({ ...this.state, connected: true }));
    es.addEventListener("error", () => {
      this.#set({ ...this.state, connected: false });
      if (es.readyState === EventSource.CLOSED && this.#source === es) setTimeout(() => this.#source === es && this.start(), 2000);
    });
    es.addEventListener("message", (e: MessageEvent<string>) => {
      if (e.lastEventId !== "") this.#lastId = e.lastEventId;
      this.#set(applyFrame(this.state, JSON.parse(e.data) as Frame));
    });
    es.addEventListener("dropped", () => {
      // Dropped for reading too slowly: the browser reconnects with Last-Event-ID.
      this.#set({ ...this.state, connected: false });
    });
  }

  stop(): void {
    this.#source?.close();
    this.#source = null;
  }

  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  #set(s: LiveState): void {
    this.state = s;
    for (const l of this.#listeners) l(s);
  }
}

/** The page's one live connection. */
export const live = new Live();
