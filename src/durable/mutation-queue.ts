// One mutation at a time: input gates open on every await, so the DO serializes writes explicitly.

/**
 * Runs tasks strictly one after another, in arrival order. A task's failure does not stop the
 * ones queued behind it.
 */
export class MutationQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Tasks waiting or running. */
  get depth(): number {
    return this.pending;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }
}
