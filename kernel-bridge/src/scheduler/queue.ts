// A first-in-first-out queue of keyed items with O(1) push, shift and removal by key: executors and
// block allocations may hold tens of thousands of calls, where Array#shift and #indexOf cost O(n).

export class KeyedQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  /** Absolute position of items[0]; positions of the items held stay valid as the array is compacted. */
  private offset = 0;
  private readonly positions = new Map<string, number>();

  constructor(private readonly keyOf: (item: T) => string) {}

  get size(): number {
    return this.positions.size;
  }

  has(key: string): boolean {
    return this.positions.has(key);
  }

  push(item: T): void {
    this.positions.set(this.keyOf(item), this.offset + this.items.length);
    this.items.push(item);
  }

  peek(): T | undefined {
    this.skipHoles();
    return this.items[this.head];
  }

  shift(): T | undefined {
    const item = this.peek();
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined;
    this.positions.delete(this.keyOf(item));
    this.compact();
    return item;
  }

  /** Take the item with this key out of the queue, wherever it is. */
  remove(key: string): T | undefined {
    const position = this.positions.get(key);
    if (position === undefined) return undefined;
    const item = this.items[position - this.offset];
    this.items[position - this.offset] = undefined;
    this.positions.delete(key);
    this.compact();
    return item;
  }

  /** Empty the queue, returning what it held in order. */
  drain(): T[] {
    const out = [...this];
    this.items = [];
    this.head = 0;
    this.offset = 0;
    this.positions.clear();
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item !== undefined) yield item;
    }
  }

  private skipHoles(): void {
    while (this.head < this.items.length && this.items[this.head] === undefined) this.head += 1;
  }

  private compact(): void {
    if (this.positions.size === 0) {
      this.offset += this.items.length;
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.offset += this.head;
      this.head = 0;
    }
  }
}
