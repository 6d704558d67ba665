// A growable byte buffer with canonical uvarint writes (Go `binary.AppendUvarint`).

export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** A non-negative safe integer as a uvarint: 7 bits a byte, low group first. */
  uvarint(value: number): void {
    this.reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  at(i: number): number {
    return this.buf[i];
  }

  /** A view of the bytes written so far (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
