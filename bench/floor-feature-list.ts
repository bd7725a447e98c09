/**
 * The features `bench/floor-features.ts` can leave out (`skip=F,...`), each
 * a part of what modelswap does per request: the body parsed for its model,
 * the client's address, the abort link to the client, the cancel registry,
 * the idle cut lifted, the headers copied without hop-by-hop fields (both
 * ways), the answer's usage parsed, the activity row, the capture, the
 * per-model counters, the request log line.
 */
export const FEATURES = ["parse", "ip", "abort", "registry", "timeout", "headers", "usage", "row", "capture", "metrics", "log"] as const;
