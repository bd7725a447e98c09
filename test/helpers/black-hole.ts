/**
 * A TCP port where connecting hangs, as behind a firewall that drops
 * packets: a socket listening with a backlog of 0 that never accepts, its one
 * queue slot taken, so the kernel drops every further SYN. Made with libc
 * through bun:ffi because Bun's own listeners always accept.
 *
 * @example
 * ```ts
 * const hole = await blackHole();
 * // connecting to 127.0.0.1:hole.port now hangs
 * hole.close();
 * ```
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
});

const AF_INET = 2;
const SOCK_STREAM = 1;

export interface BlackHole {
  port: number;
  close(): void;
}

export async function blackHole(): Promise<BlackHole> {
  const fd = libc.symbols.socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw new Error("Cannot make a black hole: socket() failed");
  // struct sockaddr_in: family (host order), port 0 (any), 127.0.0.1, zero padding.
  const addr = new Uint8Array(16);
  new DataView(addr.buffer).setUint16(0, AF_INET, true);
  addr.set([127, 0, 0, 1], 4);
  const len = new Uint32Array([16]);
  if (libc.symbols.bind(fd, ptr(addr), 16) !== 0 || libc.symbols.listen(fd, 0) !== 0 || libc.symbols.getsockname(fd, ptr(addr), ptr(len)) !== 0) {
    libc.symbols.close(fd);
    throw new Error("Cannot make a black hole: bind/listen failed");
  }
  const port = new DataView(addr.buffer).getUint16(2, false);
  // The one queue slot: a connection the kernel completes and nobody accepts.
  const filler = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
  return {
    port,
    close() {
      filler.terminate();
      libc.symbols.close(fd);
    },
  };
}
