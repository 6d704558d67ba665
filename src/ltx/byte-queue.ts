// A FIFO of byte chunks for streaming decoders: random peeks and zero-copy reads when a run sits in one chunk.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of the first live chunk
  private offset = 0; // bytes of chunks[head] already consumed
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The chunk the read position is in (undefined when empty); its bytes from `headOffset` on are next. */
  get headChunk(): Uint8Array | undefined {
    return this.chunks[this.head];
  }

  /** Where the read position is inside `headChunk`. */
  get headOffset(): number {
    return this.offset;
  }

  /** The byte `i` positions past the read position (i < length). */
  byteAt(i: number): number {
    let at = i + this.offset;
    for (let c = this.head; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      if (at < chunk.length) return chunk[at];
      at -= chunk.length;
    }
    throw new RangeError('ByteQueue.byteAt past the end');
  }

  /** Consumes `n` bytes (n ≤ length). A view into one chunk when possible, else a fresh copy. */
  read(n: number): Uint8Array {
    if (n > this.size) throw new RangeError('ByteQueue.read past the end');
    const first = this.chunks[this.head];
    if (first !== undefined && first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.skip(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head];
      const take = Math.min(n - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.skip(take);
    }
    return out;
  }

  /** Consumes `n` bytes (n ≤ length) without returning them. */
  skip(n: number): void {
    this.size -= n;
    this.offset += n;
    while (this.head < this.chunks.length && this.offset >= this.chunks[this.head].length) {
      this.offset -= this.chunks[this.head].length;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
