/**
 * Everything the pages show that changes by itself, kept current over one
 * `/api/events` stream. The browser's EventSource reconnects on its own and
 * sends `Last-Event-ID`, so modelswap replays exactly the events after the
 * last one seen: nothing lost, nothing repeated. While the stream is down the
 * state is marked stale.
 */
import { applyFrame, type Frame } from "./frames.ts";
import { LiveStore } from "./store.ts";

export type { LiveState, ModelRow } from "./frames.ts";
export { mergeActivity } from "./frames.ts";

/** The one connection of the page and its state. */
export class Live extends LiveStore {
  #source: EventSource | null = null;
  /** The last event id seen (`id:` of hub events), for a fresh connection to resume from. */
  #lastId = "";

  start(): void {
    // A fresh EventSource (after the browser gave up) resumes with ?since=, as a reconnect would with Last-Event-ID.
    const es = new EventSource(this.#lastId === "" ? "/api/events" : `/api/events?since=${encodeURIComponent(this.#lastId)}`);
    this.#source = es;
    es.addEventListener("open", () => this.set({ ...this.state, connected: true }));
    es.addEventListener("error", () => {
      this.set({ ...this.state, connected: false });
      if (es.readyState === EventSource.CLOSED && this.#source === es) setTimeout(() => this.#source === es && this.start(), 2000);
    });
    es.addEventListener("message", (e: MessageEvent<string>) => {
      if (e.lastEventId !== "") this.#lastId = e.lastEventId;
      this.set(applyFrame(this.state, JSON.parse(e.data) as Frame));
    });
    es.addEventListener("dropped", () => {
      // Dropped for reading too slowly: the browser reconnects with Last-Event-ID.
      this.set({ ...this.state, connected: false });
    });
  }

  stop(): void {
    this.#source?.close();
    this.#source = null;
  }
}

/** The page's one live connection. */
export const live = new Live();
