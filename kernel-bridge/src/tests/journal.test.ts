// The worker's journal as the bridge reads it when a worker dies (the worker's side is
// executorlab/worker/journal.py; pytest kills real workers to check the two agree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalPath, removeJournals, takeJournal } from '../workers/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
const b64 = (text: string): string => Buffer.from(text).toString('base64');

test('the journal sits next to the worker credentials file, named by the worker', () => {
  assert.equal(journalPath('/run/x/bridge-worker.json', 'w-7'), '/run/x/bridge-worker-w-7.journal');
});

test('it gives the task that ran and the outcomes of the last ones, and is removed once read', () => {
  const path = join(dir, 'a.journal');
  const ok = JSON.stringify({ v: 1, type: 'result', task_id: 't-1', ok: true, runtime: 0.5 });
  const failed = JSON.stringify({ v: 1, type: 'result', task_id: 't-2', ok: false, runtime: 0.1, error_type: 'KeyError', error_message: 'k', traceback: 'tb' });
  // A longer earlier write left bytes after the blank line that ends the current one.
  writeFileSync(path, `t-3\n${ok}\t${b64('value')}\n${failed}\t\n\nt-0\nstale`);
  const journal = takeJournal(path)!;
  assert.equal(journal.running, 't-3');
  const first = journal.results.get('t-1')!;
  assert.ok(first.ok && first.result.toString() === 'value' && first.runtime === 0.5);
  const second = journal.results.get('t-2')!;
  assert.ok(!second.ok && second.failure.error_type === 'KeyError' && second.exception === null);
  assert.equal(journal.results.size, 2);
  assert.equal(existsSync(path), false);
});

test('a missing, empty or damaged journal is no journal, or skips the damaged lines', () => {
  assert.equal(takeJournal(join(dir, 'missing.journal')), null);
  const empty = join(dir, 'empty.journal');
  writeFileSync(empty, '');
  assert.equal(takeJournal(empty), null);
  const damaged = join(dir, 'damaged.journal');
  writeFileSync(damaged, `t-9\nnot json\tAAAA\n{"v":1,"type":"hello"}\t\n\n`);
  const journal = takeJournal(damaged)!;
  assert.equal(journal.running, 't-9');
  assert.equal(journal.results.size, 0);
});

test("the journals left by a bridge's workers are removed, nothing else", () => {
  const bridgeFile = join(dir, 'bridge-worker.json');
  const left = [journalPath(bridgeFile, 'w-1'), journalPath(bridgeFile, 'w-2')];
  const others = [join(dir, 'other-bridge-worker-w-3.journal'), join(dir, 'bridge-worker-w-4.txt')];
  for (const path of [...left, ...others]) writeFileSync(path, 'x');
  removeJournals(bridgeFile);
  assert.deepEqual(left.map(existsSync), [false, false]);
  assert.deepEqual(others.map(existsSync), [true, true]);
});
