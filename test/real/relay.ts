/**
 * A TCP relay between modelswap and a llama-server that counts the HTTP
 * requests it carries: the only way to see, from outside, whether a POST
 * reached the upstream's socket twice (a retry after the server died
 * mid-request). Bytes pass through unchanged, with backpressure; when one
 * side closes, the relay closes the other, as a dying server's kernel would.
 *
 * @example
 * ```ts
 * const relay = startRelay(llamaPort);
 * // modelswap config: proxy: http://127.0.0.1:${relay.port}
 * relay.requests("POST /v1/chat/completions"); // 1
 * relay.stop();
 * ```
 */
import type { Socket, TCPSocketListener } from "bun";

/** Writes to a Bun socket, queueing what does not fit until `drain`. */
class Pipe {
  #queue: Uint8Array[] = [];
  #ending = false;
  constructor(public socket: Socket<unknown> | null = null) {}
  write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.flush();
  }
  flush(): void {
    const s = this.socket;
    if (!s) return;
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      const n = s.write(next);
      if (n < next.byteLength) {
        this.#queue[0] = next.subarray(Math.max(n, 0));
        return;
      }
      this.#queue.shift();
    }
    if (this.#ending) s.end();
  }
  end(): void {
    this.#ending = true;
    if (this.#queue.length === 0) this.socket?.end();
  }
}

interface Conn {
  toUpstream: Pipe;
  toClient: Pipe;
}

/** A running relay: its port, a count of request lines seen, and stop. */
export interface Relay {
  port: number;
  /** How many times a request line starting with `start` (e.g. `POST /v1/chat/completions`) went through. */
  requests(start: string): number;
  stop(): void;
}

/** Listens on a free loopback port and relays every connection to `targetPort`. */
export function startRelay(targetPort: number): Relay {
  const lines: string[] = [];
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const conn: Conn = { toUpstream: new Pipe(), toClient: new Pipe(client as Socket<unknown>) };
        client.data = conn;
        Bun.connect<Conn>({
          hostname: "127.0.0.1",
          port: targetPort,
          data: conn,
          socket: {
            open(up) {
              conn.toUpstream.socket = up as Socket<unknown>;
              conn.toUpstream.flush();
            },
            data(_up, bytes) {
              conn.toClient.write(bytes);
            },
            drain() {
              conn.toUpstream.flush();
            },
            close() {
              conn.toClient.end();
            },
            error() {
              conn.toClient.end();
            },
          },
        }).catch(() => conn.toClient.end());
      },
      data(client, bytes) {
        // Request lines start a line of their own; a body never holds "HTTP/1.1\r\n" after a method here.
        for (const m of Buffer.from(bytes).toString("latin1").matchAll(/(?:^|\r\n)([A-Z]+ \S+) HTTP\/1\.[01]\r\n/g)) lines.push(m[1]!);
        client.data.toUpstream.write(bytes);
      },
      drain(client) {
        client.data.toClient.flush();
      },
      close(client) {
        client.data.toUpstream.end();
      },
      error(client) {
        client.data.toUpstream.end();
      },
    },
  });
  return {
    port: listener.port,
    requests: (start) => lines.filter((l) => l.startsWith(start)).length,
    stop: () => listener.stop(true),
  };
}
