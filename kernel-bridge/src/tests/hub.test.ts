// The worker hub's bookkeeping when a worker dies, with and without its journal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskOutcome } from '../backends/backend.js';
import { mergeResources, type Task } from '../scheduler/task.js';
import type { RouterEndpoint } from '../transport/endpoint.js';
import { WorkerHub, type WorkerConnection } from '../workers/hub.js';
import type { Journal } from '../workers/journal.js';

const hooks = { started: () => {}, stream: () => {} };
const conn: WorkerConnection = { workerId: 'w', peer: Buffer.from('peer'), ranks: 1, host: 'h', pid: 1, where: 'h:1' };

function task(id: string): Task {
  return {
    id, executorId: 'e', clientId: 'c', fnName: `f${id}`, resources: mergeResources({}, {}), gpus: [], blobs: [],
    dependencies: [], pendingDependencies: 0, output: '', orphaned: false, state: 'queued', submittedAt: 0,
    startedAt: null, finishedAt: null, runtime: null, failure: null
  };
}

/** A hub holding calls a, b, c, d for one worker, and what each call ends with. */
function hubWithCalls() {
  const hub = new WorkerHub(() => {});
  const forgotten: string[] = [];
  hub.attach({ send: async () => {}, forget: (peer: Buffer) => forgotten.push(peer.toString()) } as unknown as RouterEndpoint);
  const ends = ['a', 'b', 'c', 'd'].map(id => hub.run(conn, task(id), [], hooks));
  const death = (running: { fnName: string; resultLost?: boolean } | null): TaskOutcome => ({
    ok: false,
    runtime: 0,
    failure: { error_type: 'ExecutorlabWorkerError', error_message: `${running?.resultLost ? 'lost' : 'died'} ${running?.fnName}`, traceback: '' },
    exception: null
  });
  const describe = async (): Promise<string[]> =>
    (await Promise.all(ends)).map(o => (o === null ? 'again' : o.ok ? `ok ${o.result}` : o.failure.error_message));
  return { hub, death, describe, forgotten };
}

test('without a journal the first call not answered is the one that died, the others run again', async () => {
  const { hub, death, describe, forgotten } = hubWithCalls();
  hub.lost(conn, death);
  assert.deepEqual(await describe(), ['died fa', 'again', 'again', 'again']);
  assert.deepEqual(forgotten, ['peer'], 'the endpoint forgets which socket the dead worker used');
});

test('the journal names the call that died; calls before it get their results from it, or fail as lost', async () => {
  const { hub, death, describe } = hubWithCalls();
  const journal: Journal = { running: 'c', results: new Map([['b', { ok: true, runtime: 0, result: Buffer.from('B') }]]) };
  hub.lost(conn, death, journal);
  assert.deepEqual(await describe(), ['lost fa', 'ok B', 'died fc', 'again']);
});

test('a journal naming none of its calls means it had started none: they all run again', async () => {
  const { hub, death, describe } = hubWithCalls();
  hub.lost(conn, death, { running: 'dropped-earlier', results: new Map() });
  assert.deepEqual(await describe(), ['again', 'again', 'again', 'again']);
});
