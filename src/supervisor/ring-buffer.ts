/**
 * The last output lines of one model process, bounded by bytes rather than
 * lines so a server printing huge lines cannot grow memory without limit.
 */

/** A FIFO of lines holding at most about `maxBytes` UTF-16 code units. */
export class LineRing {
  readonly maxBytes: number;
  /** Lines oldest first; `#head` is the index of the oldest kept line. */
  #lines: string[] = [];
  #head = 0;
  /** Sum of `length` of lines from `#head` on; never above `maxBytes` after `push`. */
  #bytes = 0;

  constructor(maxBytes = 100 * 1024) {
    if (!(maxBytes > 0)) throw new RangeError(`Cannot create a ring buffer as 'maxBytes' must be positive: current value is ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Appends a line, dropping the oldest ones while the total exceeds `maxBytes`; a longer line is cut to its end. */
  push(line: string): void {
    const kept = line.length > this.maxBytes ? line.slice(line.length - this.maxBytes) : line;
    this.#lines.push(kept);
    this.#bytes += kept.length;
    while (this.#bytes > this.maxBytes) {
      this.#bytes -= this.#lines[this.#head]!.length;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The last `n` lines, oldest first. */
  tail(n: number): string[] {
    if (n <= 0) return [];
    return this.#lines.slice(Math.max(this.#head, this.#lines.length - n));
  }

  /** Number of lines kept. */
  get size(): number {
    return this.#lines.length - this.#head;
  }

  /** Size of the kept lines in code units. */
  get bytes(): number {
    return this.#bytes;
  }
}
