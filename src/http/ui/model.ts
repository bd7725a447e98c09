/**
 * The pure half of the `/ui/` page's script: one parsed `/api/events`
 * envelope in, one view update out. It is plain browser JavaScript kept as a
 * function body string, so the page inlines it verbatim and tests run the very
 * same text with `new Function` against frames from the real `EventView`.
 */

/** Log lines the page keeps (older lines are dropped from the top). */
export const MAX_LOG_LINES = 2000;

/** The parameter name `FRAME_UPDATE_BODY` expects: the parsed `{type, data}` envelope. */
export const FRAME_UPDATE_PARAM = "envelope";

/** One row of the models table, as the page draws it. */
export interface UiModel {
  id: string;
  name: string;
  description: string;
  /** llama-swap's state (`ready`, `starting`, ...); empty for a peer's model. */
  state: string;
  /** Empty for local models. */
  peerID: string;
  unlisted: boolean;
  /** A local model that is starting or ready: it gets an Unload button. */
  running: boolean;
}

/** What one frame changes on the page; frames that change nothing (metrics, request, clock, malformed) give `null`. */
export type UiUpdate =
  | { kind: "models"; models: UiModel[] }
  | { kind: "inflight"; total: number }
  | { kind: "log"; source: "proxy" | "upstream"; lines: string[] };

/**
 * Body of `function frameUpdate(envelope)`: returns a `UiUpdate` or `null`
 * (why: the only part of the page's logic worth testing without a browser).
 *
 * @example
 * ```ts
 * const frameUpdate = new Function(FRAME_UPDATE_PARAM, FRAME_UPDATE_BODY) as (e: unknown) => UiUpdate | null;
 * frameUpdate({ type: "inflight", data: '{"total":2}' }); // { kind: "inflight", total: 2 }
 * ```
 */
export const FRAME_UPDATE_BODY = String.raw`
  if (envelope === null || typeof envelope !== "object" || typeof envelope.data !== "string") return null;
  let data;
  try {
    data = JSON.parse(envelope.data);
  } catch (e) {
    return null;
  }
  const text = (v) => (typeof v === "string" ? v : "");
  switch (envelope.type) {
    case "modelStatus":
      if (!Array.isArray(data)) return null;
      return {
        kind: "models",
        models: data
          .filter((m) => m !== null && typeof m === "object" && typeof m.id === "string")
          .map((m) => ({
            id: m.id,
            name: text(m.name),
            description: text(m.description),
            state: text(m.state),
            peerID: text(m.peerID),
            unlisted: m.unlisted === true,
            running: text(m.peerID) === "" && (m.state === "ready" || m.state === "starting"),
          })),
      };
    case "inflight":
      if (data === null || typeof data !== "object" || typeof data.total !== "number") return null;
      return { kind: "inflight", total: data.total };
    case "logData": {
      if (data === null || typeof data !== "object" || typeof data.data !== "string") return null;
      if (data.source !== "proxy" && data.source !== "upstream") return null;
      const lines = data.data.split("\n");
      if (lines[lines.length - 1] === "") lines.pop();
      return { kind: "log", source: data.source, lines: lines.slice(-${MAX_LOG_LINES}) };
    }
    default:
      return null;
  }
`;
