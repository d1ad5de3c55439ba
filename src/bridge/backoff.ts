/**
 * Delays between reconnection attempts: doubles from `min` up to `max`.
 */
export class Backoff {
  constructor(
    readonly min = 500,
    readonly max = 5000
  ) {
    this._next = min;
  }

  /** The delay to wait now; the following call returns the next step. */
  next(): number {
    const delay = this._next;
    this._next = Math.min(this._next * 2, this.max);
    return delay;
  }

  reset(): void {
    this._next = this.min;
  }

  private _next: number;
}
