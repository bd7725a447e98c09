/**
 * The observe subsystem's door: log lines and events, fed by the scheduler's
 * event feed and the proxy log, read by the HTTP front (`/logs`, `/api/events`,
 * the UI, the test hooks) and by stdout.
 */
export type { EventHub, LogFilter, LogHub, LogLine, LogSource, SequencedEvent } from "./types.ts";
export { createLogHub, flushStdout, LOG_BUFFER_BYTES, matches, type LogHubOptions } from "./log-hub.ts";
export { createEventHub, EVENT_BUFFER_CAPACITY, type EventHubOptions } from "./event-hub.ts";
export { createProxyLogger, formatProxyLine, levelEnabled, type LogExtra, type ProxyLogger } from "./proxy-log.ts";
export { formatRecord, type LifecycleEvent, type LogFields, type LogRecord, type LogStyle } from "./log-format.ts";
export { formatLogTime, layoutFor } from "./log-time.ts";
export { connectHubs, connectMetrics, schedulerRecord } from "./connect.ts";
