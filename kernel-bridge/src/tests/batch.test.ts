// The `batch` envelope (src/protocol/batch.ts): several small messages to one peer as one ZeroMQ message
// of two frames (the headers with their blob lengths, then all blobs back to back); a message with a big
// blob travels alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batch, BIG_BLOB, MAX_BATCH, unbatch, type Outgoing } from '../protocol/batch.js';
import { decodeClientHeader, ProtocolError } from '../protocol/messages.js';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
const blob = (text: string): Buffer => Buffer.from(text);
const texts = (blobs: Buffer[]): string[] => blobs.map(b => b.toString());
const envelope = (frames: Buffer[]): { v: unknown; type: unknown; messages: unknown[]; blobs: unknown[] } => JSON.parse(frames[0].toString());
const isBatch = (frames: Buffer[]): boolean => envelope(frames).type === 'batch';
/** What the peer gets: every ZeroMQ message unpacked, in order. */
const receive = (messages: Buffer[][]) => messages.flatMap(frames => unbatch(frames));

/** A batch header as a peer would write it; `frames` follow it. */
const raw = (header: Record<string, unknown>, ...frames: Buffer[]): Buffer[] => [json({ v: 1, type: 'batch', ...header }), ...frames];
const HEARTBEAT = { v: 1, type: 'heartbeat' };

const refused = (frames: Buffer[], message: RegExp): void => {
  assert.throws(
    () => unbatch(frames),
    (error: unknown) => {
      assert.ok(error instanceof ProtocolError, `a ProtocolError, not ${String(error)}`);
      assert.match(error.message, message);
      return true;
    }
  );
};

const small = (i: number): Outgoing => ({ header: { v: 1, type: 'result', task_id: `s${i}`, ok: true, runtime: 0 }, blobs: [blob(`r${i}`)] });
const big = (i: number, size = BIG_BLOB): Outgoing => ({ header: { v: 1, type: 'result', task_id: `b${i}`, ok: true, runtime: 0 }, blobs: [Buffer.alloc(size, i)] });
const ids = (messages: { header: unknown }[]): string[] => messages.map(m => (m.header as { task_id: string }).task_id);

test('one message goes plain: one ZeroMQ message, its header frame then its blobs', () => {
  const header = { v: 1, type: 'result', task_id: 't1', ok: true, runtime: 0.5 };
  const out = batch([{ header, blobs: [blob('value'), blob('more')] }]);
  assert.equal(out.length, 1);
  const [frames] = out;
  assert.equal(frames.length, 3);
  assert.deepEqual(JSON.parse(frames[0].toString()), header, 'no batch envelope around a single message');
  assert.deepEqual(texts(frames.slice(1)), ['value', 'more']);
  const [back, ...rest] = unbatch(frames);
  assert.equal(rest.length, 0);
  assert.deepEqual(back.header, header);
  assert.deepEqual(texts(back.blobs), ['value', 'more']);
  assert.deepEqual(batch([]), [], 'nothing to send: no message');
});

test('several messages become one batch of two frames and come back in order, each with its own blobs', () => {
  const messages: Outgoing[] = [
    { header: { v: 1, type: 'task', task_id: 'a', fn_name: 'f', dependencies: [] }, blobs: [blob('fa'), blob('argsa')] },
    { header: { v: 1, type: 'drop', task_id: 'z' }, blobs: [] },
    { header: { v: 1, type: 'task', task_id: 'b', fn_name: 'g', dependencies: ['a'] }, blobs: [blob('fb'), blob('argsb'), blob('ra')] },
    { header: { v: 1, type: 'shutdown' }, blobs: [] }
  ];
  const out = batch(messages);
  assert.equal(out.length, 1, 'one ZeroMQ message');
  const [frames] = out;
  assert.equal(frames.length, 2, 'header and blob frame, however many blobs');
  const env = envelope(frames);
  assert.equal(env.v, 1);
  assert.equal(env.type, 'batch');
  assert.deepEqual(env.blobs, [[2, 5], [], [2, 5, 2], []], 'per message: the byte lengths of its blobs');
  assert.deepEqual(env.messages, messages.map(m => m.header));
  assert.equal(frames[1].toString(), 'faargsafbargsbra', 'blobs back to back in message order');
  const back = unbatch(frames);
  assert.equal(back.length, 4);
  back.forEach((m, i) => {
    assert.deepEqual(m.header, messages[i].header);
    assert.deepEqual(texts(m.blobs), texts(messages[i].blobs));
  });
});

test('a batch of messages without blobs has an empty blob frame', () => {
  const messages: Outgoing[] = [
    { header: { v: 1, type: 'heartbeat' }, blobs: [] },
    { header: { v: 1, type: 'cancel', task_id: 't9' }, blobs: [] }
  ];
  const [frames, ...more] = batch(messages);
  assert.equal(more.length, 0);
  assert.equal(frames.length, 2);
  assert.equal(frames[1].length, 0);
  assert.deepEqual(envelope(frames).blobs, [[], []]);
  const back = unbatch(frames);
  assert.deepEqual(back.map(m => m.header), messages.map(m => m.header));
  assert.deepEqual(back.map(m => m.blobs.length), [0, 0]);
  // Messages without blobs among others do not shift the blobs of those after them.
  const mixed = unbatch(raw({ messages: [{ a: 1 }, { b: 2 }, { c: 3 }], blobs: [[], [1, 2], []] }, blob('xyy')));
  assert.deepEqual(mixed.map(m => texts(m.blobs)), [[], ['x', 'yy'], []]);
});

test('empty blobs are blobs: a zero length is listed and the blob kept', () => {
  const [frames] = batch([
    { header: { v: 1, type: 'x' }, blobs: [Buffer.alloc(0)] },
    { header: { v: 1, type: 'y' }, blobs: [blob('1'), Buffer.alloc(0)] },
    { header: { v: 1, type: 'z' }, blobs: [Buffer.alloc(0), Buffer.alloc(0)] }
  ]);
  assert.equal(frames.length, 2);
  assert.deepEqual(envelope(frames).blobs, [[0], [1, 0], [0, 0]]);
  assert.equal(frames[1].toString(), '1');
  assert.deepEqual(unbatch(frames).map(m => m.blobs.map(b => b.length)), [[0], [1, 0], [0, 0]]);
});

test('a message with a blob of BIG_BLOB bytes or more travels alone, plain, and the order is kept', () => {
  assert.equal(BIG_BLOB, 64 * 1024);
  // small, small, BIG, small → batch, plain, plain (a run of one small message is plain too).
  const messages = [small(0), small(1), big(2), small(3)];
  const out = batch(messages);
  assert.deepEqual(out.map(isBatch), [true, false, false]);
  assert.deepEqual(ids(unbatch(out[0])), ['s0', 's1']);
  assert.equal(out[1].length, 2, 'header frame, blob frame');
  assert.equal(out[1][1], messages[2].blobs[0], 'the big blob is not copied');
  assert.deepEqual(ids(receive(out)), ['s0', 's1', 'b2', 's3']);
  assert.deepEqual(receive(out).map(m => m.blobs.map(b => b.length)), [[2], [2], [BIG_BLOB], [2]]);

  // One byte less stays in the batch; big ones in a row each go alone; a big one first or last.
  const edge = batch([big(0, BIG_BLOB - 1), small(1), big(2), big(3, BIG_BLOB + 1), small(4), small(5), small(6), big(7)]);
  assert.deepEqual(edge.map(isBatch), [true, false, false, true, false]);
  assert.deepEqual(ids(receive(edge)), ['b0', 's1', 'b2', 'b3', 's4', 's5', 's6', 'b7']);
  assert.deepEqual(receive(edge).map(m => m.blobs[0].length), [BIG_BLOB - 1, 2, BIG_BLOB, BIG_BLOB + 1, 2, 2, 2, BIG_BLOB]);
  // A message with a big blob among small ones of its own keeps them all, in order.
  const mixed: Outgoing = { header: { v: 1, type: 'task', task_id: 'm' }, blobs: [blob('fn'), Buffer.alloc(BIG_BLOB), blob('')] };
  const [alone, ...none] = batch([mixed]);
  assert.equal(none.length, 0);
  assert.deepEqual(alone.map(b => b.length), [alone[0].length, 2, BIG_BLOB, 0]);
});

test('runs of small messages are cut at MAX_BATCH messages', () => {
  assert.equal(MAX_BATCH, 10_000);
  const many = Array.from({ length: 2 * MAX_BATCH + 1 }, (_, i) => small(i));
  const out = batch(many);
  assert.deepEqual(out.map(isBatch), [true, true, false], '10000, 10000, then the last one plain');
  assert.deepEqual(out.slice(0, 2).map(frames => envelope(frames).messages.length), [MAX_BATCH, MAX_BATCH]);
  assert.deepEqual(ids(receive(out)), many.map(m => (m.header as { task_id: string }).task_id));
  // A big message ends a run: the count starts again after it.
  const around = batch([...many.slice(0, MAX_BATCH - 1), big(0), ...many.slice(0, 2)]);
  assert.deepEqual(around.map(isBatch), [true, false, true]);
  assert.deepEqual([envelope(around[0]).messages.length, envelope(around[2]).messages.length], [MAX_BATCH - 1, 2]);
});

test('a batch header may exceed the 1 MiB of a plain header', () => {
  const headers = Array.from({ length: 5000 }, (_, i) => ({ v: 1, type: 'stream', task_id: `t${i}`, name: 'stdout', text: 'x'.repeat(200) }));
  const [frames, ...more] = batch(headers.map(header => ({ header, blobs: [] })));
  assert.equal(more.length, 0);
  assert.ok(frames[0].length > 1 << 20);
  assert.equal(unbatch(frames).length, 5000);
});

test('a frame that is not a batch comes back as one message with its parsed header and all frames after it', () => {
  const header = { v: 1, type: 'submit', task_id: 't1', executor_id: 'e' };
  const back = unbatch([json(header), blob('fn'), blob('args')]);
  assert.equal(back.length, 1);
  assert.deepEqual(back[0].header, header);
  assert.deepEqual(texts(back[0].blobs), ['fn', 'args']);
  // Not validated here: the caller's decoder judges the header (even a non-object).
  assert.deepEqual(unbatch([json([1, 2])]), [{ header: [1, 2], blobs: [] }]);
  assert.deepEqual(unbatch([json(null)]), [{ header: null, blobs: [] }]);
  assert.deepEqual(unbatch([json({ v: 7, type: 'hello' })]), [{ header: { v: 7, type: 'hello' }, blobs: [] }]);
});

test('frame 0 must be JSON, and there must be a frame 0', () => {
  refused([Buffer.from('\xff not json', 'latin1')], /not valid JSON/);
  refused([], /empty message/);
});

test('a batch is exactly two frames', () => {
  const ok = { messages: [HEARTBEAT, HEARTBEAT], blobs: [[], []] };
  refused(raw(ok), /invalid batch: it is 2 frames \(header, blobs\), got 1/);
  refused(raw(ok, Buffer.alloc(0), Buffer.alloc(0)), /it is 2 frames \(header, blobs\), got 3/);
  // The old format: one frame per blob after the header.
  refused(raw({ messages: [HEARTBEAT, HEARTBEAT], blobs: [[1], [1]] }, blob('x'), blob('y')), /it is 2 frames \(header, blobs\), got 3/);
  assert.equal(unbatch(raw(ok, Buffer.alloc(0))).length, 2);
});

test('blob lengths that do not add up to the blob frame are refused, naming both numbers', () => {
  const two = [HEARTBEAT, HEARTBEAT];
  refused(raw({ messages: two, blobs: [[1], [1]] }, blob('x')), /the blob lengths add up to 2 bytes but the blob frame has 1/);
  refused(raw({ messages: two, blobs: [[1], []] }, blob('xy')), /add up to 1 bytes but the blob frame has 2/);
  refused(raw({ messages: two, blobs: [[], []] }, blob('stray')), /add up to 0 bytes but the blob frame has 5/);
  refused(raw({ messages: two, blobs: [[1e300], []] }, blob('x')), /add up to 1e\+300 bytes but the blob frame has 1/);
});

test('blob lengths must be integers >= 0', () => {
  for (const bad of [-1, 1.5, '1', null, true, [1], {}, Number.NaN]) {
    refused(raw({ messages: [HEARTBEAT, HEARTBEAT], blobs: [[], [bad]] }, blob('x')), /invalid batch: every blob length must be an integer >= 0/);
  }
  // 2 then -1 adds up to the blob frame: still refused.
  refused(raw({ messages: [HEARTBEAT, HEARTBEAT], blobs: [[2], [-1]] }, blob('x')), /integer >= 0/);
});

test('"blobs" must list, per message, an array of blob lengths', () => {
  const msg = /invalid batch: "blobs" must list the blob lengths of each message/;
  // The old format's blob counts.
  refused(raw({ messages: [HEARTBEAT, HEARTBEAT], blobs: [0, 1] }, blob('x')), msg);
  for (const bad of [1, null, 'ab', { 0: 1 }]) refused(raw({ messages: [HEARTBEAT, HEARTBEAT], blobs: [[], bad] }, blob('x')), msg);
});

test('"messages" and "blobs" must be arrays of the same length', () => {
  const msg = /invalid batch: "blobs" must list the blob lengths of each message/;
  refused(raw({ messages: [HEARTBEAT, HEARTBEAT], blobs: [[]] }, Buffer.alloc(0)), msg);
  refused(raw({ messages: [HEARTBEAT], blobs: [[], []] }, Buffer.alloc(0)), msg);
  refused(raw({ messages: [HEARTBEAT] }, Buffer.alloc(0)), msg);
  refused(raw({ messages: [HEARTBEAT], blobs: { 0: [] } }, Buffer.alloc(0)), msg);
});

test('a batch holds 1 to MAX_BATCH messages', () => {
  const msg = /invalid batch: "messages" must hold 1 to 10000 headers/;
  refused(raw({ messages: [], blobs: [] }, Buffer.alloc(0)), msg);
  refused(raw({ blobs: [] }, Buffer.alloc(0)), msg);
  refused(raw({ messages: 'x', blobs: [[]] }, Buffer.alloc(0)), msg);
  const many = (n: number) => raw({ messages: Array.from({ length: n }, (_, i) => ({ i })), blobs: Array.from({ length: n }, () => []) }, Buffer.alloc(0));
  refused(many(MAX_BATCH + 1), msg);
  assert.equal(unbatch(many(MAX_BATCH)).length, MAX_BATCH);
  assert.equal(unbatch(many(1)).length, 1, 'a batch of one is allowed (a peer may send it)');
});

test('a batch of another protocol version is refused', () => {
  const ok = { type: 'batch', messages: [HEARTBEAT], blobs: [[]] };
  refused([json({ v: 2, ...ok }), Buffer.alloc(0)], /unsupported protocol version 2; this bridge speaks v1/);
  refused([json(ok), Buffer.alloc(0)], /unsupported protocol version/);
  refused([json({ v: '1', ...ok }), Buffer.alloc(0)], /unsupported protocol version "1"/);
});

test('a plain header over 1 MiB is refused by unbatch itself (only a batch envelope may be larger)', () => {
  // PROTOCOL.md: frame 0 is at most 1 MiB; only a batch envelope may be larger (64 MiB).
  const dependencies = Array.from({ length: 100_000 }, (_, i) => `t-${String(i).padStart(12, '0')}`);
  const frame = json({ v: 1, type: 'submit', task_id: 't', executor_id: 'e', fn_name: 'f', resource_dict: {}, dependencies });
  assert.ok(frame.length > 1 << 20);
  assert.throws(() => decodeClientHeader(frame), /exceeds 1048576/, 'decoding the frame itself checks the size');
  refused([frame, blob('fn'), blob('args')], new RegExp(`header of ${frame.length} bytes exceeds 1048576`));
  // Exactly 1 MiB is still fine.
  const padded = json({ v: 1, type: 'heartbeat', pad: '' });
  const exact = json({ v: 1, type: 'heartbeat', pad: 'x'.repeat((1 << 20) - padded.length) });
  assert.equal(exact.length, 1 << 20);
  assert.equal(unbatch([exact]).length, 1);
});
