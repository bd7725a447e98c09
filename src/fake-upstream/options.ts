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
  ignoreSigterm: boolean;
  /** One stdout line per request (off by default: a benchmark measures the proxy, not log piping). */
  verbose: boolean;
}
