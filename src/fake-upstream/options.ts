/**
 * What `modelswap fake-upstream` is told on its command line.
 */

export interface FakeUpstreamOptions {
  port: number;
  host: string;
  model: string | null;
  startDelayMs: number;
  tokens: number;
  tokenIntervalMs: number;
  exitAfterRequests: number | null;
  healthFail: boolean;
  /** Answer every API request (not /health) with this status and an OpenAI-style error body. */
  errorStatus: number | null;
  ignoreSigterm: boolean;
  /** One stdout line per request (off by default: a benchmark measures the proxy, not log piping). */
  verbose: boolean;
}
