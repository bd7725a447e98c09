/**
 * WebSocket passthrough for `/upstream/<model>/…`: the client socket is
 * upgraded by Bun.serve and paired with an outbound socket to the model's
 * server. Messages sent before the upstream socket opens are queued.
 */
import type { ServerWebSocket, WebSocketHandler } from "bun";

/** Per-connection state carried in `ws.data`. */
export interface WsBridge {
  kind: "modelswap-ws-bridge";
  /** ws:// URL of the model server path. */
  target: string;
  protocols: string[];
  /** Releases the lease; idempotent. */
  release: () => void;
  upstream: WebSocket | null;
  pending: Array<string | ArrayBuffer | Uint8Array>;
}

/** Whether a request asks for a websocket upgrade. */
export function isWebSocketUpgrade(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/** http(s):// base + path → ws(s):// URL. */
export function toWsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}

function isBridge(data: unknown): data is WsBridge {
  return typeof data === "object" && data !== null && (data as { kind?: unknown }).kind === "modelswap-ws-bridge";
}

function closeCode(code: number): number {
  // 1005/1006 are reserved for "no status" / "abnormal" and cannot be sent.
  return code === 1005 || code === 1006 || code < 1000 ? 1000 : code;
}

/** Bun.serve `websocket` handlers pairing each client socket with its upstream socket. */
export const websocketBridge: WebSocketHandler<unknown> = {
  open(ws: ServerWebSocket<unknown>) {
    const data = ws.data;
    if (!isBridge(data)) return;
    const up = new WebSocket(data.target, data.protocols);
    up.binaryType = "arraybuffer";
    data.upstream = up;
    up.addEventListener("open", () => {
      for (const m of data.pending.splice(0)) up.send(m);
    });
    up.addEventListener("message", (e: MessageEvent) => {
      ws.send(e.data as string | ArrayBuffer);
    });
    up.addEventListener("close", (e: CloseEvent) => {
      data.release();
      ws.close(closeCode(e.code), e.reason);
    });
    up.addEventListener("error", () => {
      data.release();
      ws.close(1011, "Cannot reach upstream websocket");
    });
  },
  message(ws: ServerWebSocket<unknown>, message: string | Buffer) {
    const data = ws.data;
    if (!isBridge(data)) return;
    const payload = typeof message === "string" ? message : new Uint8Array(message);
    if (data.upstream?.readyState === WebSocket.OPEN) data.upstream.send(payload);
    else data.pending.push(payload);
  },
  close(ws: ServerWebSocket<unknown>, code: number, reason: string) {
    const data = ws.data;
    if (!isBridge(data)) return;
    data.release();
    const up = data.upstream;
    if (up && (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING)) up.close(closeCode(code), reason);
  },
};
