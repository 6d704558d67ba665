// Reads that wait for the head to reach a TXID (min_txid, read-your-writes): woken by each commit, or given up after a time.

export class HeadWaiters {
  private readonly head: () => bigint;
  private readonly waiting = new Set<() => void>();

  /** `head`: the TXID the database is at now. */
  constructor(head: () => bigint) {
    this.head = head;
  }

  /** Resolves when the head reaches `txid` (true) or after `ms` (false). */
  wait(txid: bigint, ms: number): Promise<boolean> {
    const reached = () => this.head() >= txid;
    if (reached()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(check);
        resolve(false);
      }, ms);
      const check = () => {
        if (!reached()) return;
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve(true);
      };
      this.waiting.add(check);
    });
  }

  /** The head moved: wake whoever it reached. */
  moved(): void {
    for (const check of [...this.waiting]) check();
  }
}
