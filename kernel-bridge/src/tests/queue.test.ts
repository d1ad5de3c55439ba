// KeyedQueue (src/scheduler/queue.ts): FIFO with removal by key, used for executor queues and the
// block allocation's waiting calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedQueue } from '../scheduler/queue.js';

interface Item {
  id: string;
  n: number;
}

const item = (n: number): Item => ({ id: `k${n}`, n });
const queue = (...ns: number[]): KeyedQueue<Item> => {
  const q = new KeyedQueue<Item>(i => i.id);
  for (const n of ns) q.push(item(n));
  return q;
};
/** The private array and its offset, to check that a test really went through a compaction. */
const internals = (q: KeyedQueue<Item>) => q as unknown as { items: unknown[]; offset: number };
const order = (q: KeyedQueue<Item>): number[] => [...q].map(i => i.n);

test('first in, first out; size, has and peek follow', () => {
  const q = queue(1, 2, 3);
  assert.equal(q.size, 3);
  assert.ok(q.has('k1') && q.has('k3') && !q.has('k4'));
  assert.equal(q.peek()?.n, 1);
  assert.equal(q.size, 3, 'peek takes nothing');
  assert.equal(q.shift()?.n, 1);
  assert.equal(q.has('k1'), false);
  assert.equal(q.size, 2);
  q.push(item(4));
  assert.deepEqual(order(q), [2, 3, 4]);
  assert.deepEqual([q.shift()?.n, q.shift()?.n, q.shift()?.n], [2, 3, 4]);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  q.push(item(5));
  assert.deepEqual(order(q), [5], 'usable again once emptied');
});

test('remove by key in the middle, at the front and at the end', () => {
  const q = queue(1, 2, 3, 4, 5);
  assert.equal(q.remove('k3')?.n, 3);
  assert.equal(q.has('k3'), false);
  assert.equal(q.size, 4);
  assert.deepEqual(order(q), [1, 2, 4, 5]);
  assert.equal(q.remove('k3'), undefined, 'twice: nothing');
  assert.equal(q.remove('nope'), undefined);
  assert.equal(q.remove('k1')?.n, 1);
  assert.equal(q.peek()?.n, 2, 'the front moves past a removed item');
  assert.equal(q.remove('k5')?.n, 5);
  assert.deepEqual(order(q), [2, 4]);
  assert.equal(q.shift()?.n, 2);
  assert.equal(q.shift()?.n, 4);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
});

test('remove after shifts, and shift after a run of removed items', () => {
  const q = queue(1, 2, 3, 4, 5, 6);
  q.shift();
  q.shift();
  assert.equal(q.remove('k4')?.n, 4);
  assert.equal(q.remove('k3')?.n, 3);
  assert.equal(q.shift()?.n, 5, 'skips the holes left at the front');
  assert.deepEqual(order(q), [6]);
});

test('drain empties the queue and returns what it held, in order', () => {
  const q = queue(1, 2, 3, 4);
  q.shift();
  q.remove('k3');
  assert.deepEqual(q.drain().map(i => i.n), [2, 4]);
  assert.equal(q.size, 0);
  assert.equal(q.has('k2'), false);
  assert.equal(q.shift(), undefined);
  assert.deepEqual(q.drain(), []);
  q.push(item(9));
  assert.equal(q.remove('k9')?.n, 9, 'keys work after a drain');
});

test('iteration skips removed items and does not consume', () => {
  const q = queue(1, 2, 3, 4);
  q.remove('k2');
  assert.deepEqual(order(q), [1, 3, 4]);
  assert.deepEqual(order(q), [1, 3, 4]);
  assert.equal(q.size, 3);
});

test('compaction past 1024 consumed items keeps the order and removal by key', () => {
  const N = 2500;
  const q = queue(...Array.from({ length: N }, (_, i) => i));
  const expected = Array.from({ length: N }, (_, i) => i);
  // Consume well past the compaction threshold, removing and putting back along the way.
  for (let i = 0; i < 1500; i++) assert.equal(q.shift()?.n, i);
  expected.splice(0, 1500);
  assert.ok(internals(q).offset > 0 && internals(q).items.length < N, 'the consumed part was cut off');
  assert.equal(q.size, N - 1500);
  assert.equal(q.remove('k2000')?.n, 2000, 'a key pushed before the compaction still finds its item');
  expected.splice(expected.indexOf(2000), 1);
  assert.equal(q.remove('k1500')?.n, 1500);
  expected.shift();
  assert.deepEqual(order(q), expected);
  // More pushes and shifts over several compactions.
  for (let i = N; i < N + 3000; i++) {
    q.push(item(i));
    expected.push(i);
  }
  for (let i = 0; i < 2000; i++) assert.equal(q.shift()?.n, expected.shift());
  for (const n of [4321, N + 2999, expected[Math.floor(expected.length / 2)], expected[0]]) {
    assert.equal(q.remove(`k${n}`)?.n, n, `remove k${n}`);
    expected.splice(expected.indexOf(n), 1);
  }
  assert.equal(q.size, expected.length);
  assert.deepEqual(order(q), expected);
  for (const n of expected) assert.ok(q.has(`k${n}`));
  assert.deepEqual(q.drain().map(i => i.n), expected);
});

test('removing everything by key in any order leaves an empty queue', () => {
  const N = 3000;
  const q = queue(...Array.from({ length: N }, (_, i) => i));
  for (let i = 0; i < 1100; i++) q.shift();
  // Remove the rest from the back, then push and shift again.
  for (let n = N - 1; n >= 1100; n--) assert.equal(q.remove(`k${n}`)?.n, n);
  assert.equal(q.size, 0);
  assert.equal(q.peek(), undefined);
  q.push(item(1));
  q.push(item(2));
  assert.equal(q.remove('k2')?.n, 2);
  assert.deepEqual(order(q), [1]);
});

test('removing interleaved with shifting over many compactions stays consistent', () => {
  // A long-running executor: calls arrive, most start in order, some are cancelled while queued.
  const q = new KeyedQueue<Item>(i => i.id);
  const model: number[] = [];
  let next = 0;
  let seed = 12345;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let step = 0; step < 20_000; step++) {
    const r = random();
    if (r < 0.5) {
      q.push(item(next));
      model.push(next++);
    } else if (r < 0.8) {
      assert.equal(q.shift()?.n, model.shift());
    } else if (model.length > 0) {
      const n = model[Math.floor(random() * model.length)];
      assert.equal(q.remove(`k${n}`)?.n, n);
      model.splice(model.indexOf(n), 1);
    }
    assert.equal(q.size, model.length);
  }
  assert.ok(internals(q).offset > 1024, 'compacted along the way');
  assert.deepEqual(order(q), model);
  for (const n of model) assert.equal(q.has(`k${n}`), true);
});
