/**
 * Is a model's port free before its server is spawned? A port held by a
 * foreign process fails the start with a message naming the port (and the
 * pid when /proc shows it), instead of health-checking someone else's server
 * and proxying to it.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { procPids } from "./process-tree.ts";

/** Loopback names a model's proxy may use; only these are checked (a remote address is not ours to judge). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || h === "0.0.0.0" || h === "::" || /^127\./.test(h);
}

/**
 * Resolves null when nothing accepts connections on `host:port`, else a
 * suffix for the error message (" by pid N (comm)" when /proc shows the
 * listener, "" otherwise).
 *
 * @example
 * ```ts
 * const holder = await portInUse("127.0.0.1", 5800);
 * if (holder !== null) throw new Error(`port 5800 is already in use${holder}`);
 * ```
 */
export async function portInUse(host: string, port: number): Promise<string | null> {
  const connectHost = host === "0.0.0.0" || host === "::" || host === "localhost" ? "127.0.0.1" : host.replace(/^\[|\]$/g, "");
  const accepted = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 1000);
    Bun.connect({
      hostname: connectHost,
      port,
      socket: {
        open(socket) {
          clearTimeout(timer);
          socket.end();
          resolve(true);
        },
        data() {},
        error() {},
        connectError() {
          clearTimeout(timer);
          resolve(false);
        },
      },
    }).catch(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!accepted) return null;
  const pid = listenerPid(port);
  if (pid === null) return "";
  let comm = "";
  try {
    comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    // Gone meanwhile.
  }
  return comm === "" ? ` by pid ${pid}` : ` by pid ${pid} (${comm})`;
}

/** The pid of a process of this user holding a listening TCP socket on `port`, from /proc/net/tcp{,6}; null when not visible. */
export function listenerPid(port: number): number | null {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "HEX_IP:HEX_PORT"; state 0A is LISTEN; inode is field 9.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === "0A" && f[9] !== undefined && f[9] !== "0") inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of procPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's, or gone
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return pid;
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return null;
}
