/** The page's live state and who listens to it, apart from the connection that feeds it (no DOM needed). */
import type { LiveState } from "./frames.ts";

type Listener = (s: LiveState) => void;

export class LiveStore {
  state: LiveState = { connected: false, loaded: false, models: [], proxyLog: [], upstreamLog: [], activity: [], inflight: 0 };
  readonly #listeners = new Set<Listener>();

  /**
   * Calls `l` with the state now and on every change. Why at once: a page
   * renders with the state of its first render and subscribes in an effect
   * that runs later; frames that arrived in between (the connect-time
   * snapshot, often) would otherwise stay unseen until the next frame.
   */
  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    l(this.state);
    return () => this.#listeners.delete(l);
  }

  set(s: LiveState): void {
    this.state = s;
    for (const l of this.#listeners) l(s);
  }
}
