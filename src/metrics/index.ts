/**
 * The metrics subsystem's door: activity rows and token extraction
 * (llama-swap's Activity), captures, and the Prometheus registry.
 */
export { MetricsHub, type ActivityStoreLike } from "./metrics-hub.ts";
export { RequestRecord, type RecordInit, errorMessage } from "./request-record.ts";
export { type ActivityEntry, type ActivityPage, type ActivityQuery, type ActivityStats, type NewActivity, DEFAULT_QUERY, histogram, isSortKey } from "./activity.ts";
export { type Capture, redactHeaders } from "./captures.ts";
export { JSON_TAIL_BYTES, type ParsedTokens, type TokenMetrics, noTokens, tokensFromJson, tokensFromSseTail } from "./tokens.ts";
export { tokensFromJsonBody, tokensFromJsonTail } from "./json-usage.ts";
export { BodyUsageTail, SseUsageTail, type UsageTail } from "./usage-tail.ts";
export { pathLabel } from "./prometheus.ts";
