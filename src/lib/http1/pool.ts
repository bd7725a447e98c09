/**
 * The connections of the pooled HTTP/1.1 client: opening them (connect
 * timeout, TCP keepalive), the socket handlers that hand bytes to the
 * exchange a connection carries, and the idle pool (LIFO, closed after
 * `IDLE_MS`). `client.ts` runs the exchanges.
 */

/** How a new connection is opened. */
export interface ConnectOptions {
  /** Aborting gives up the attempt with the signal's reason. */
  signal: AbortSignal;
  /** A new connection not established within this many ms fails (0 or absent: no limit but the signal). */
  connectTimeoutMs?: number;
  /** TCP keepalive probes after this many idle ms on a new connection (0 or absent: off). */
  tcpKeepAliveMs?: number;
}

/** What a connection hands its bytes and its end to (the client's exchange). */
export interface ConnUser {
  received(chunk: Uint8Array): void;
  peerClosed(error?: Error): void;
}

/** Idle sockets are closed after this long: below common keep-alive timeouts (llama-server's 5 s), so a reused socket is rarely one the server is closing. */
const IDLE_MS = 2_000;
/** Idle sockets kept per origin. */
const MAX_IDLE = 256;

type Socket = Bun.Socket<Conn>;

/** One connection and the exchange it carries (at most one at a time). */
export class Conn {
  socket: Socket | null = null;
  readonly origin: string;
  /** The exchange now on this connection, or null when idle. */
  exchange: ConnUser | null = null;
  idleSince = 0;
  /** `performance.now()` from which the idle connection may carry a request again. */
  usableFrom = 0;
  closed = false;
  /** Bytes not yet taken by the kernel. */
  out: Uint8Array[] = [];

  constructor(origin: string) {
    this.origin = origin;
  }

  write(bytes: Uint8Array): void {
    if (this.out.length > 0) {
      this.out.push(bytes);
      return;
    }
    const n = this.socket!.write(bytes);
    if (n < bytes.length) this.out.push(bytes.subarray(Math.max(0, n)));
  }

  drain(): void {
    while (this.out.length > 0) {
      const head = this.out[0]!;
      const n = this.socket!.write(head);
      if (n < head.length) {
        this.out[0] = head.subarray(Math.max(0, n));
        return;
      }
      this.out.shift();
    }
  }
}

const idle = new Map<string, Conn[]>();
let sweeper: ReturnType<typeof setInterval> | null = null;

function sweep(): void {
  const now = performance.now();
  for (const [origin, list] of idle) {
    const keep = list.filter((c) => {
      if (now - c.idleSince < IDLE_MS) return true;
      c.closed = true;
      c.socket?.end();
      return false;
    });
    if (keep.length === 0) idle.delete(origin);
    else idle.set(origin, keep);
  }
  if (idle.size === 0 && sweeper !== null) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

/** An idle connection to `origin` that may be used now (the most recently used first), taken out of the pool; or null. */
export function takeIdle(origin: string): Conn | null {
  const list = idle.get(origin);
  if (list === undefined) return null;
  // The most recently used first: the least likely to be timing out on the server.
  let i = list.length - 1;
  if (list[i]!.usableFrom > 0) {
    const now = performance.now();
    while (i >= 0 && list[i]!.usableFrom > now) i--;
    if (i < 0) return null;
  }
  const c = i === list.length - 1 ? list.pop()! : list.splice(i, 1)[0]!;
  if (list.length === 0) idle.delete(origin);
  return c;
}

/** Pools an idle connection; it may carry a request again after `waitMs` (0: at once). */
export function putIdle(c: Conn, waitMs = 0): void {
  c.exchange = null;
  c.idleSince = performance.now();
  c.usableFrom = waitMs > 0 ? c.idleSince + waitMs : 0;
  let list = idle.get(c.origin);
  if (list === undefined) idle.set(c.origin, (list = []));
  if (list.length >= MAX_IDLE) {
    c.closed = true;
    c.socket?.end();
    return;
  }
  list.push(c);
  sweeper ??= setInterval(sweep, IDLE_MS / 2);
  sweeper.unref?.();
}

export function dropIdle(c: Conn): void {
  const list = idle.get(c.origin);
  if (list === undefined) return;
  const i = list.indexOf(c);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) idle.delete(c.origin);
}

const handlers: Bun.SocketHandler<Conn> = {
  data(socket, chunk) {
    const c = socket.data;
    if (c.exchange === null) {
      // A server must not speak unasked: drop the connection.
      c.closed = true;
      dropIdle(c);
      socket.terminate();
      return;
    }
    c.exchange.received(chunk);
  },
  drain(socket) {
    socket.data.drain();
  },
  end(socket) {
    socket.data.exchange?.peerClosed();
    socket.end();
  },
  close(socket, error) {
    const c = socket.data;
    c.closed = true;
    dropIdle(c);
    c.exchange?.peerClosed(error);
  },
  error(socket, error) {
    socket.data.exchange?.peerClosed(error);
  },
};

/**
 * Opens a connection; rejects when `timeoutMs` passes first or `signal`
 * aborts (a socket that connects after that is closed at once).
 */
export async function connect(origin: string, hostname: string, port: number, init: ConnectOptions): Promise<Conn> {
  const c = new Conn(origin);
  const timeoutMs = init.connectTimeoutMs ?? 0;
  let gaveUp: ((e: unknown) => void) | null = null;
  const late = new Promise<never>((_, reject) => (gaveUp = reject));
  const onAbort = () => gaveUp?.(init.signal.reason);
  const timer = timeoutMs > 0 ? setTimeout(() => gaveUp?.(Object.assign(new Error(`connect timed out after ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" })), timeoutMs) : undefined;
  init.signal.addEventListener("abort", onAbort, { once: true });
  const opening = Bun.connect<Conn>({ hostname, port, data: c, socket: handlers });
  try {
    c.socket = await Promise.race([opening, late]);
  } catch (error) {
    void opening.then((s) => {
      c.closed = true;
      s.terminate();
    }, () => undefined);
    if (init.signal.aborted && error === init.signal.reason) throw error;
    const code = (error as { code?: unknown }).code;
    const why = code === "ECONNREFUSED" ? "connection refused" : error instanceof Error ? error.message : String(error);
    throw Object.assign(new Error(typeof code === "string" && !why.includes(code) ? `${why} (${code})` : why), { code });
  } finally {
    clearTimeout(timer);
    init.signal.removeEventListener("abort", onAbort);
  }
  c.socket.setNoDelay?.(true);
  if ((init.tcpKeepAliveMs ?? 0) > 0) c.socket.setKeepAlive?.(true, init.tcpKeepAliveMs);
  return c;
}

/** Closes the idle pooled connections to `origin` (`host:port`), or every one (tests use that to start from an empty pool). */
export function closeIdleConnections(origin?: string): void {
  for (const [o, list] of idle) {
    if (origin !== undefined && o !== origin) continue;
    for (const c of list) {
      c.closed = true;
      c.socket?.end();
    }
    idle.delete(o);
  }
}
