/**
 * `modelswap serve`: the composition of config, scheduler Worker, hubs and
 * HTTP server, and the two-step shutdown (drain, then stop every model; a
 * second signal forces it).
 */
import { createScheduler } from "../scheduler/client.ts";
import type { Scheduler } from "../scheduler/api.ts";
import { type HttpServer, startHttpServer } from "../http/index.ts";
import { connectHubs, connectMetrics, createEventHub, createLogHub, flushStdout, type LogHub } from "../observe/index.ts";
import { MetricsHub, type ActivityStoreLike } from "../metrics/index.ts";
import { queryGpus } from "../hardware/index.ts";
import { deadline } from "../lib/async.ts";
import type { ServeOptions } from "./args.ts";
import type { Config } from "../config/types.ts";
import type { PreviousPorts } from "../config/ports.ts";
import { exposureWarning, isLoopback } from "../lib/listen.ts";
import { selfCommand } from "../lib/self.ts";
import { processIo, type Io } from "./io.ts";
import { type ConfigTarget, describeTarget, loadConfigIsolated, targetFor } from "./config-process.ts";
import { watchConfigFile } from "./watch-config.ts";
import { EMBEDDED_CONFIG_NAME, embeddedConfigText } from "./embedded-config.ts";
import { existsSync } from "node:fs";
import { acquireStateLock } from "../supervisor/lock.ts";
import { prepareStateDir } from "../supervisor/state-dir.ts";
import { killOwnRecords } from "../supervisor/leftovers.ts";

/** How long the forced path waits for models to be killed before exiting anyway. */
const FORCE_EXIT_MS = 5000;

/** Why `--test-hooks` is refused on `hostname`, or null when it is allowed. */
export function testHooksRefusal(options: ServeOptions): string | null {
  if (!options.testHooks || options.testHooksUnsafe || isLoopback(options.listen.hostname)) return null;
  return (
    `modelswap: refusing to enable --test-hooks on '${options.listen.text}': ` +
    `anyone who can reach it could stop models and move the clock; listen on 127.0.0.1 or add --test-hooks-unsafe`
  );
}

/**
 * Runs the proxy until SIGINT/SIGTERM and resolves with the exit status:
 * 0 after a graceful shutdown, 1 when forced by a second signal or when
 * startup fails, 2 for a refused option combination.
 */
export async function serve(options: ServeOptions, io: Io = processIo): Promise<number> {
  const refusal = testHooksRefusal(options);
  if (refusal) {
    io.err(refusal);
    return 2;
  }
  // No config.yaml here and none asked for: serve the built-in demo models.
  const embedded = !options.configGiven && options.configDir === null && !existsSync(options.config);
  const target = targetFor(options);
  const first = embedded
    ? await loadConfigIsolated(EMBEDDED_CONFIG_NAME, io, embeddedConfigText)
    : await loadConfigIsolated(target, io);
  if (!first) return 1;
  for (const w of first.warnings) io.err(`warning: ${w}`);
  const exposure = exposureWarning(options.listen, first.apiKeys);
  if (exposure) io.err(exposure);
  // One owner per state dir: a second modelswap on it would share ${PORT} numbers and sweep our records.
  try {
    prepareStateDir(options.stateDir);
  } catch (error) {
    io.err(`modelswap: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const lock = acquireStateLock(options.stateDir);
  if (!lock.ok) {
    io.err(`modelswap: cannot use state dir ${options.stateDir}: modelswap pid ${lock.holder.pid} already runs with it; stop it or pass --state-dir DIR`);
    return 1;
  }
  try {
    return await serveLocked(options, io, first, embedded, target, lock.tookOverFrom?.pid ?? null);
  } finally {
    lock.release();
  }
}

/** `serve` once the state dir is ours. */
async function serveLocked(
  options: ServeOptions,
  io: Io,
  first: Config,
  embedded: boolean,
  target: ConfigTarget,
  tookOverFrom: number | null,
): Promise<number> {
  /** The configuration in force; replaced by --watch-config and SIGHUP reloads. */
  let config = first;

  const scheduler = await createScheduler(config, {
    manualClock: options.testHooks,
    recordFile: options.record,
    stateDir: options.stateDir,
    selfCommand: selfCommand(),
  });
  const logs = createLogHub(config);
  const events = createEventHub();
  const metrics = new MetricsHub(config, await openStore(config.store, io));
  connectHubs(scheduler, logs, events);
  connectMetrics(scheduler, metrics, events);
  // The hub prints proxy lines when logToStdout asks for them; lifecycle lines are printed regardless.
  const hubPrints = config.logToStdout === "proxy" || config.logToStdout === "both";
  const say = (text: string): void => {
    logs.append("proxy", null, text);
    if (!hubPrints) io.out(`modelswap: ${text}`);
  };
  // The scheduler is up: collect the start-up garbage now,
  // so the memory is returned before the first request (measured: idle RSS at first answer 66 → 56 MB).
  Bun.gc(true);
  let server: HttpServer;
  try {
    server = startHttpServer({
      config,
      scheduler,
      logs,
      events,
      metrics,
      queryGpus: () => queryGpus(),
      testHooks: options.testHooks,
      hostname: options.listen.hostname,
      port: options.listen.port,
      tls: options.tls,
    });
  } catch (error) {
    io.err(`modelswap: cannot listen on ${options.listen.text}: ${error instanceof Error ? error.message : String(error)}`);
    await scheduler.shutdown(0).catch(() => {});
    scheduler.close();
    return 1;
  }
  const started: HttpServer = server; // closures below need a binding TypeScript knows is assigned
  if (tookOverFrom !== null) say(`state dir ${options.stateDir}: took over the lock of modelswap pid ${tookOverFrom}, which is gone`);
  let stopWatching = (): void => {};
  // Signal handlers are in place before "listening" is printed: a script that
  // signals as soon as it reads that line must get a graceful shutdown.
  const exitCode = new Promise<number>((resolve) => {
    let signals = 0;
    const finish = (code: number): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.off("SIGHUP", onHangup);
      resolve(code);
    };
    // The scheduler Worker died: nothing can start or stop a model any more. Fail fast (the seed
    // stops its runtime when its broker dies) so systemd or an orchestrator restarts modelswap.
    scheduler.onDeath((message) => {
      if (signals > 0) return; // a shutdown in progress closes it on purpose
      signals = 2;
      io.err(`modelswap: ${message}: killing every model server and exiting`);
      void killOwnRecords(options.stateDir)
        .catch(() => 0)
        .then(() => started.close().catch(() => {}))
        .then(() => finish(1));
    });
    const onHangup = (): void => {
      if (signals === 0) void reloadNow("SIGHUP");
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        stopWatching();
        say(`${signal} received: draining requests for up to ${config.shutdownTimeout}s (send it again to force)`);
        void graceful(started, scheduler, config.shutdownTimeout * 1000).then(
          // A second signal arrived while draining: the shutdown was forced, even if it finished first.
          () => finish(signals > 1 ? 1 : 0),
          (error: unknown) => {
            io.err(`modelswap: graceful shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
            finish(1);
          },
        );
      } else if (signals === 2) {
        say(`${signal} received again: stopping every model now`);
        void deadline(scheduler.shutdown(0), FORCE_EXIT_MS)
          .catch(() => {})
          .then(() => finish(1));
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onHangup);
  });

  if (embedded) say(`no ${options.config} here: serving the built-in demo models (write one, or pass --config FILE)`);
  /** Reloads the configuration (--watch-config, SIGHUP); models whose settings did not change keep their process and port. */
  let reloading = Promise.resolve();
  const reloadNow = (why: string): Promise<void> => {
    reloading = reloading.then(async () => {
      if (embedded) {
        say(`${why}: no configuration file to reload (serving the built-in demo models)`);
        return;
      }
      const next = await loadConfigIsolated(target, io, undefined, portsOf(config));
      if (!next) {
        say(`configuration ${describeTarget(target)} ${why === "SIGHUP" ? "has" : "changed but has"} errors: still serving the previous one`);
        return;
      }
      for (const w of next.warnings) io.err(`warning: ${w}`);
      await scheduler.reload(next);
      started.reload(next);
      config = next;
      say(`configuration reloaded from ${describeTarget(target)}: ${Object.keys(next.models).length} models${why === "SIGHUP" ? " (SIGHUP)" : ""}`);
    });
    return reloading;
  };
  if (options.watchConfig && !embedded) stopWatching = watchConfigFile(target.file, () => reloadNow("file changed"), target.dir);
  say(`listening on ${started.url}${options.testHooks ? " (test hooks enabled)" : ""}${options.watchConfig ? ", watching the config file" : ""}`);
  // Once more after the listener and the preload started (measured: settles at ~53 MB instead of ~57 MB).
  setTimeout(() => Bun.gc(true), 100).unref();
  // Serving from here on: the normal JIT policy again (main.ts made it reluctant for the start).
  Bun.unsafe.setJITPolicy(1);
  void preload(scheduler, config.preload, logs, io);
  const code = await exitCode;
  // The shutdown's last lines are queued for stdout: hand them over before main.ts drains and exits.
  flushStdout();
  return code;
}

/**
 * llama-swap's shutdown order: the scheduler is told first, so no swap starts
 * during the drain (a queued request for another model would evict a model
 * and cold-load one that is stopped again seconds later) and waiters for a
 * model that is not running get 503 at once; requests already running finish
 * within the grace while HTTP drains; then everything closes.
 */
async function graceful(server: HttpServer, scheduler: Scheduler, graceMs: number): Promise<void> {
  const stopping = scheduler.shutdown(graceMs);
  await server.drain(graceMs);
  await stopping;
  scheduler.close();
  await server.close();
}

/** The `${PORT}` each model has now, so a reload hands the same ones out again. */
function portsOf(config: Config): PreviousPorts {
  const ports: Record<string, number> = {};
  for (const [id, m] of Object.entries(config.models)) if (m.port !== null) ports[id] = m.port;
  return { startPort: config.startPort, ports };
}

/** Starts each `preload` model once (acquire, then release at once); failures are logged, not fatal. */
async function preload(scheduler: Scheduler, ids: readonly string[], logs: LogHub, io: Io): Promise<void> {
  for (const id of ids) {
    try {
      const lease = await scheduler.acquire(id);
      lease.release();
      logs.append("proxy", null, `preloaded ${id}`);
    } catch (error) {
      const text = `preload of '${id}' failed: ${error instanceof Error ? error.message : String(error)}`;
      logs.append("proxy", null, text);
      io.err(`modelswap: ${text}`);
    }
  }
}

/**
 * The SQLite activity store of `store.path`, or null (no store, or it cannot
 * be opened: then activity stays in memory and the reason is printed).
 * Loaded on demand, so bun:sqlite is never loaded without a store.
 */
async function openStore(store: { path: string } | null, io: Io): Promise<ActivityStoreLike | null> {
  if (store === null) return null;
  try {
    const { ActivityStore } = await import("../metrics/activity-store.ts");
    return new ActivityStore(store.path);
  } catch (error) {
    io.err(`modelswap: cannot open the activity store ${store.path}: ${error instanceof Error ? error.message : String(error)} (activity is kept in memory only)`);
    return null;
  }
}
