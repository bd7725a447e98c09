/**
 * A push-fed, pull-drained text stream for long-lived responses (SSE events,
 * live logs, loading state). Producers call `push` synchronously and never
 * wait; text the client has not read yet is bounded, and a client that falls
 * that far behind is dropped (its stream ends) instead of slowing the proxy
 * down. A stream may hand over to a byte source (`follow`), which is then
 * read one chunk per client pull, at the client's pace.
 */

/** Unread text allowed per client before it is dropped, by default. */
export const MAX_QUEUED_BYTES = 1024 * 1024;

export interface PushStreamOptions {
  /** Unread text (UTF-16 code units) beyond which the stream ends, default 1 MiB. */
  maxQueuedBytes?: number;
  /** Text sent instead of the unread backlog when the client is dropped. */
  droppedNotice?: string;
  /** Called once when the stream ends for any reason (client gone, dropped, closed, followed source done). */
  onClose?: () => void;
  /** Called when the client cancels the stream, before `onClose`. */
  onCancel?: (reason: unknown) => void;
}

/** The part of a stream reader `follow` uses. */
export interface ChunkSource {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

/** How a followed source ended: `null` at its end, else the error it failed with. */
export type FollowEnd = (error: unknown) => void;

export interface PushStream {
  readonly stream: ReadableStream<Uint8Array>;
  /**
   * Queues text; returns false once the stream has ended. Never blocks.
   * `counted: false` exempts a one-off batch (a replay, a snapshot) from the limit.
   */
  push(text: string, counted?: boolean): boolean;
  /**
   * After the queued text, relays `source` one read per client pull (why: an
   * upstream body must flow at the client's pace, never pile up here). When it
   * ends or fails, `onEnd` runs (and may `push` a last message), then the stream ends.
   * Closing the stream cancels `source`.
   */
  follow(source: ChunkSource, onEnd: FollowEnd): void;
  /** Ends the stream after the queued text has been read. */
  close(): void;
  /** True once the client left, was dropped, or `close` was called. */
  readonly closed: boolean;
}

/**
 * Creates a bounded push stream.
 *
 * @example
 * ```ts
 * const out = createPushStream({ onClose: unsubscribe });
 * const unsubscribe = hub.subscribe((e) => out.push(format(e)));
 * return new Response(out.stream);
 * ```
 */
export function createPushStream(options: PushStreamOptions = {}): PushStream {
  const max = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const encoder = new TextEncoder();
  /** Text not yet handed to the reader; `queuedBytes` is the sum of its counted lengths. */
  let queue: string[] = [];
  let queuedBytes = 0;
  let closed = false;
  let wake: (() => void) | null = null;
  let source: { reader: ChunkSource; onEnd: FollowEnd } | null = null;

  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const dropSource = (reason?: unknown) => {
    const s = source;
    source = null;
    void s?.reader.cancel(reason).catch(() => {});
  };
  const end = () => {
    if (closed) return;
    closed = true;
    dropSource();
    try {
      options.onClose?.();
    } catch {
      // The stream is over either way.
    }
  };
  const takeQueued = (): string => {
    const text = queue.length === 1 ? queue[0]! : queue.join("");
    queue = [];
    queuedBytes = 0;
    return text;
  };
  /** Reads one chunk of the followed source; true when something was enqueued. */
  const relayOne = async (controller: ReadableStreamDefaultController<Uint8Array>, s: NonNullable<typeof source>): Promise<boolean> => {
    let error: unknown = null;
    try {
      const r = await s.reader.read();
      if (!r.done) {
        controller.enqueue(r.value);
        return true;
      }
    } catch (err) {
      error = err ?? new Error("stream failed");
    }
    // Closed meanwhile (drain, client gone): the source was cancelled, nothing to report.
    if (source !== s) return false;
    source = null;
    s.onEnd(error);
    end();
    return false;
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (queue.length > 0) {
            controller.enqueue(encoder.encode(takeQueued()));
            return;
          }
          if (closed) {
            controller.close();
            return;
          }
          if (source !== null) {
            if (await relayOne(controller, source)) return;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
      cancel(reason) {
        queue = [];
        queuedBytes = 0;
        if (!closed) options.onCancel?.(reason);
        dropSource(reason);
        end();
        notify();
      },
    },
    { highWaterMark: 0 },
  );

  return {
    stream,
    push(text, counted = true) {
      if (closed) return false;
      queue.push(text);
      if (counted) queuedBytes += text.length;
      if (queuedBytes > max) {
        queue = options.droppedNotice ? [options.droppedNotice] : [];
        queuedBytes = 0;
        end();
      }
      notify();
      return !closed;
    },
    follow(reader, onEnd) {
      if (closed) {
        void reader.cancel().catch(() => {});
        return;
      }
      source = { reader, onEnd };
      notify();
    },
    close() {
      end();
      notify();
    },
    get closed() {
      return closed;
    },
  };
}
