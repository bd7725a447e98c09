/**
 * Request-body filters in llama-swap's order: useModelName → stripParams →
 * setParams → setParamsByID. The `model` key is never stripped or set by a
 * filter: it ends as `useModelName`, or the name the client requested.
 */
import type { Filters } from "../../config/types.ts";

export interface FilterInput {
  /** What the client sent as `model`. */
  requested: string;
  /** ModelConfig.useModelName ("" keeps the requested name). */
  useModelName: string;
  filters: Filters;
}

/** True when no filter could change the body, so the original bytes can be forwarded. */
export function filtersAreNoop(input: FilterInput): boolean {
  const f = input.filters;
  if (input.useModelName !== "") return false;
  let fixed = staticNoop.get(f);
  if (fixed === undefined) {
    fixed = f.stripParams.every((p) => p === "model") && Object.keys(f.setParams).every((k) => k === "model");
    staticNoop.set(f, fixed);
  }
  if (!fixed) return false;
  const byId = f.setParamsByID[input.requested];
  return byId === undefined || Object.keys(byId).every((k) => k === "model");
}

/** Per filters object (config is immutable; a reload makes new ones): whether strip/set leave a body alone. */
const staticNoop = new WeakMap<Filters, boolean>();

/** Applies the filters to a parsed JSON object in place and returns it (why: one pass, one serialisation). */
export function applyFilters(body: Record<string, unknown>, input: FilterInput): Record<string, unknown> {
  const modelName = input.useModelName !== "" ? input.useModelName : input.requested;
  body.model = modelName;
  for (const p of input.filters.stripParams) if (p !== "model") delete body[p];
  for (const [k, v] of Object.entries(input.filters.setParams)) if (k !== "model") body[k] = structuredClone(v);
  const byId = input.filters.setParamsByID[input.requested];
  if (byId) for (const [k, v] of Object.entries(byId)) if (k !== "model") body[k] = structuredClone(v);
  return body;
}

const encoder = new TextEncoder();

/** Returns the bytes to send upstream: the original ones unless a filter changes them (only then is `parsed` asked for the body as an object). */
export function filteredBody(original: Uint8Array, parsed: () => Record<string, unknown>, input: FilterInput): Uint8Array {
  if (filtersAreNoop(input)) return original;
  return encoder.encode(JSON.stringify(applyFilters(parsed(), input)));
}
