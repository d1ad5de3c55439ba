import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localWorkerCommand } from '../backends/commands.js';

const base = { python: '/usr/bin/python3', bridgeFile: '/run/b-worker.json', workerId: 'w-1', openmpiOversubscribe: false };

test('one core runs the worker directly', () => {
  assert.deepEqual(localWorkerCommand({ ...base, cores: 1 }), [
    '/usr/bin/python3', '-m', 'executorlab.worker', '--bridge-file', '/run/b-worker.json', '--worker-id', 'w-1',
    '--journal', '/run/b-worker-w-1.journal'
  ]);
});

test('more cores go through mpiexec, with --oversubscribe only when asked', () => {
  assert.deepEqual(localWorkerCommand({ ...base, cores: 4 }).slice(0, 4), ['mpiexec', '-n', '4', '/usr/bin/python3']);
  assert.deepEqual(localWorkerCommand({ ...base, cores: 4, openmpiOversubscribe: true }).slice(0, 4), [
    'mpiexec', '-n', '4', '--oversubscribe'
  ]);
});

test('a block allocation worker is told its place in the pool', () => {
  assert.deepEqual(localWorkerCommand({ ...base, cores: 1, workerIndex: 2 }).slice(-4, -2), ['--worker-index', '2']);
  assert.deepEqual(localWorkerCommand({ ...base, cores: 2, workerIndex: 0 }).slice(-4, -2), ['--worker-index', '0']);
});
