/**
 * What the HTTP front is given (`AppDeps`: config, scheduler client, the two
 * hubs) and what it builds from that once per app (`Front`: the name index,
 * the proxy logger, the open responses, the active profile).
 */
import type { Config } from "../config/types.ts";
import type { EventHub, LogHub, ProxyLogger } from "../observe/index.ts";
import type { Scheduler } from "../scheduler/api.ts";
import type { InflightTracker } from "./forward/inflight.ts";
import type { ModelIndex } from "./resolve/targets.ts";
import type { MetricsHub } from "../metrics/index.ts";
import type { GpuReport, PerformanceMonitor } from "../system/index.ts";
import type { RequestRegistry } from "./forward/requests.ts";

export interface AppDeps {
  config: Config;
  scheduler: Scheduler;
  logs: LogHub;
  events: EventHub;
  /** `/test/*` routes exist only when true. */
  testHooks: boolean;
  /** Activity, captures and `/metrics`; the app makes a private one when not given (tests). */
  metrics?: MetricsHub;
  /** The GPU query behind `/api/hardware` and `/api/performance` (`src/hardware`'s nvidia-smi; tests pass fixtures). */
  queryGpus?: () => Promise<GpuReport>;
}

/** What every route family shares: the deps and the state built from them. */
export interface Front {
  deps: AppDeps;
  log: ProxyLogger;
  index: ModelIndex;
  inflight: InflightTracker;
  /** Active profile id; none is active at start. */
  profile: string | null;
  metrics: MetricsHub;
  /** Model-routed requests in flight, for cancel. */
  requests: RequestRegistry;
  /** `/api/performance` samples, started on first use. */
  performance: PerformanceMonitor;
  /** Open `/api/events` streams (the `/test/events/drop` drill ends them all). */
  eventStreams: Set<{ close(): void }>;
}
