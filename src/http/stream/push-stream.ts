/**
 * A push-fed, pull-drained text stream for long-lived responses (SSE events,
 * live logs). Producers call `push` synchronously and never wait; text the
 * client has not read yet is bounded, and a client that falls that far behind
 * is dropped (its stream ends) instead of slowing the proxy down.
 */

/** Unread text allowed per client before it is dropped, by default. */
export const MAX_QUEUED_BYTES = 1024 * 1024;

export interface PushStreamOptions {
  /** Unread text (UTF-16 code units) beyond which the stream ends, default 1 MiB. */
  maxQueuedBytes?: number;
  /** Text sent instead of the unread backlog when the client is dropped. */
  droppedNotice?: string;
  /** Called once when the stream ends for any reason (client gone, dropped, closed). */
  onClose?: () => void;
}

export interface PushStream {
  readonly stream: ReadableStream<Uint8Array>;
  /**
   * Queues text; returns false once the stream has ended. Never blocks.
   * `counted: false` exempts a one-off batch (a replay, a snapshot) from the limit.
   */
  push(text: string, counted?: boolean): boolean;
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
  /** Text not yet handed to the reader; `queuedBytes` is the sum of its lengths. */
  let queue: string[] = [];
  let queuedBytes = 0;
  let closed = false;
  let wake: (() => void) | null = null;

  const end = () => {
    if (closed) return;
    closed = true;
    try {
      options.onClose?.();
    } catch {
      // The stream is over either way.
    }
  };
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (queue.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
        if (queue.length > 0) {
          const text = queue.length === 1 ? queue[0]! : queue.join("");
          queue = [];
          queuedBytes = 0;
          controller.enqueue(encoder.encode(text));
        }
        if (closed && queue.length === 0) controller.close();
      },
      cancel() {
        queue = [];
        queuedBytes = 0;
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
    close() {
      end();
      notify();
    },
    get closed() {
      return closed;
    },
  };
}
