import type { StreamCapture } from "../ports.ts";

/**
 * Keeps the first and last `capBytes / 2` bytes of a stream and counts every byte, so a 200 MiB flood
 * costs a fixed amount of memory (reference/sandbox.md §3.4).
 */
export class HeadTailBuffer {
  readonly #head: Uint8Array;
  readonly #tail: Uint8Array;
  #headLength = 0;
  /** Bytes written into the tail ring so far; the ring holds the last `#tail.length` of them. */
  #tailWritten = 0;
  #total = 0;
  readonly #needles: readonly string[];
  readonly #found = new Set<string>();
  /** The end of the previous chunk, so a needle split across two chunks is found. */
  #carry = "";
  readonly #latin1 = new TextDecoder("latin1");

  /** `needles` (ASCII) are searched for in every byte, including those not kept. */
  constructor(capBytes: number, needles: readonly string[] = []) {
    const headCap = Math.ceil(capBytes / 2);
    this.#head = new Uint8Array(headCap);
    this.#tail = new Uint8Array(capBytes - headCap);
    this.#needles = needles;
  }

  /** The needles seen so far. */
  get found(): ReadonlySet<string> {
    return this.#found;
  }

  #scan(chunk: Uint8Array): void {
    if (this.#needles.length === this.#found.size) return;
    const text = this.#carry + this.#latin1.decode(chunk);
    for (const n of this.#needles) {
      if (!this.#found.has(n) && text.includes(n)) this.#found.add(n);
    }
    const keep = Math.max(0, ...this.#needles.map((n) => n.length - 1));
    this.#carry = text.slice(Math.max(0, text.length - keep));
  }

  get totalBytes(): number {
    return this.#total;
  }

  push(chunk: Uint8Array): void {
    this.#total += chunk.length;
    this.#scan(chunk);
    let rest = chunk;
    if (this.#headLength < this.#head.length) {
      const n = Math.min(this.#head.length - this.#headLength, rest.length);
      this.#head.set(rest.subarray(0, n), this.#headLength);
      this.#headLength += n;
      rest = rest.subarray(n);
    }
    const ring = this.#tail.length;
    if (rest.length === 0 || ring === 0) return;
    if (rest.length >= ring) rest = rest.subarray(rest.length - ring);
    const at = this.#tailWritten % ring;
    const first = Math.min(ring - at, rest.length);
    this.#tail.set(rest.subarray(0, first), at);
    this.#tail.set(rest.subarray(first), 0);
    this.#tailWritten += rest.length;
  }

  /** The tail bytes in stream order. */
  #tailBytes(): Uint8Array {
    const ring = this.#tail.length;
    if (this.#tailWritten <= ring) {
      return this.#tail.slice(0, this.#tailWritten);
    }
    const at = this.#tailWritten % ring;
    const out = new Uint8Array(ring);
    out.set(this.#tail.subarray(at), 0);
    out.set(this.#tail.subarray(0, at), ring - at);
    return out;
  }

  /** Head + `\n[... N bytes omitted ...]\n` + tail, decoded as UTF-8 with replacement. */
  capture(): StreamCapture {
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const head = this.#head.subarray(0, this.#headLength);
    const tail = this.#tailBytes();
    const omitted = this.#total - head.length - tail.length;
    if (omitted === 0) {
      const all = new Uint8Array(head.length + tail.length);
      all.set(head, 0);
      all.set(tail, head.length);
      return { text: decode(all), total_bytes: this.#total, truncated: false };
    }
    return {
      text: `${decode(head)}\n[... ${omitted} bytes omitted ...]\n${
        decode(tail)
      }`,
      total_bytes: this.#total,
      truncated: true,
    };
  }
}
