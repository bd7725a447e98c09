/**
 * Gives memory back after a burst, in two steps once requests stop:
 *
 * 1. After a quiet interval (1 s), one full garbage collection, so the native
 *    buffers dead Requests, Responses and streams still hold are freed and the
 *    allocator can return them to the OS. Why: JSC collects when its heap
 *    grows, and a proxy at rest allocates nothing, so after a burst the garbage
 *    of the last few thousand requests (measured: +30-45 MB RSS after
 *    64-connection load, +45 MB after 2,000 streams closed) stayed resident
 *    until the next burst.
 * 2. After a longer quiet (20 s), one `Bun.shrink()`: JavaScriptCore drops its
 *    compiled code and hands the allocators' free pages back (measured 30 s
 *    after a 64-connection load: 0.6-4 MB less RSS, varying run to run). The
 *    call returns at once (0.01-0.05 ms measured); the collection it asks for
 *    runs on JavaScriptCore's own schedule. Not sooner, because the
 *    next burst then starts uncompiled (requests/s 0.87 × for the first 3 s,
 *    measured with a shrink after every quiet second); 20 s of quiet is a
 *    pause between conversations, not between the requests of one.
 */

export interface IdleCollector {
  /** Notes a request (one store: it runs on every request). */
  touch(): void;
  stop(): void;
}

export interface IdleCollectorOptions {
  /** A quiet interval this long (no request in it) after activity triggers the collection; default 1000 ms. */
  quietMs?: number;
  /** The collection; default a full synchronous `Bun.gc(true)`. */
  collect?: () => void;
  /**
   * True while requests are in flight (waiting for a model, or streaming): the
   * collection waits until it is false. Why: a full collection stops the main
   * thread for 5-50 ms, and a quiet second during a 1.5 s model load ran it
   * just as the model turned ready (measured: the waiting request went out 57
   * ms late), or in the middle of a stream's tokens.
   */
  busy?: () => boolean;
}

/** The second step's work and how many quiet intervals after the collection it waits. */
export interface IdleRelease {
  run: () => void;
  afterIntervals: number;
}

/**
 * The collector's decision, one call per interval (no timer inside, so a test
 * drives it): collect after an interval with no request, once per burst, and
 * not while `busy`; then, if `release` is given and the quiet lasts
 * `afterIntervals` more intervals, release once.
 */
export class IdleGc {
  /** A request arrived during the current interval. */
  #recent = false;
  /** Requests arrived since the last collection. */
  #dirty = false;
  /** Quiet intervals counted since the collection; -1 when no release is pending. */
  #quiet = -1;
  readonly #collect: () => void;
  readonly #busy: () => boolean;
  readonly #release: IdleRelease | null;

  constructor(collect: () => void, busy: () => boolean = () => false, release: IdleRelease | null = null) {
    this.#collect = collect;
    this.#busy = busy;
    this.#release = release;
  }

  /** Notes activity (one store: it runs on every request). */
  touch(): void {
    this.#recent = true;
  }

  /**
   * Ends an interval: collects when it was quiet, activity came before it, and
   * nothing is in flight; releases when the quiet has lasted long enough since.
   */
  tick(): void {
    if (this.#recent) {
      this.#recent = false;
      this.#dirty = true;
      this.#quiet = -1;
      return;
    }
    if (this.#busy()) return;
    if (this.#dirty) {
      this.#dirty = false;
      this.#collect();
      if (this.#release !== null) this.#quiet = 0;
      return;
    }
    const release = this.#release;
    if (release === null || this.#quiet < 0 || ++this.#quiet < release.afterIntervals) return;
    this.#quiet = -1;
    release.run();
  }
}

/**
 * Starts the collector's timer (unref'd: it never keeps the process alive).
 * @example
 * const gc = startIdleCollector();
 * Bun.serve({ fetch(req) { gc.touch(); return handle(req); } });
 */
export function startIdleCollector(options: IdleCollectorOptions = {}): IdleCollector {
  // 20 intervals: 20 s at the default interval (the module's comment says why not sooner).
  const release = { run: () => Bun.shrink(), afterIntervals: 20 };
  const gc = new IdleGc(options.collect ?? (() => Bun.gc(true)), options.busy, release);
  const timer = setInterval(() => gc.tick(), options.quietMs ?? 1000);
  timer.unref();
  return {
    touch: () => gc.touch(),
    stop() {
      clearInterval(timer);
    },
  };
}
