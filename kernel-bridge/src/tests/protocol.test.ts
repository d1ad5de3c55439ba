import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeClientHeader, decodeWorkerHeader, ProtocolError, resourceDictProblem } from '../protocol/messages.js';

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/protocol/${name}`, import.meta.url)));

test('fixtures of valid kernel messages decode', () => {
  assert.equal(decodeClientHeader(fixture('client-hello.json')).type, 'hello');
  const create = decodeClientHeader(fixture('create-executor.json'));
  assert.equal(create.type === 'create_executor' && create.options.max_cores, 4);
  const submit = decodeClientHeader(fixture('submit.json'));
  assert.deepEqual(submit.type === 'submit' && submit.resource_dict, { cores: 2, threads_per_core: 1, cwd: '/tmp' });
});

test('a worker failure fixture decodes with its traceback text', () => {
  const result = decodeWorkerHeader(fixture('worker-result-error.json'));
  assert.ok(result.type === 'result' && !result.ok);
  assert.match(result.ok ? '' : result.traceback, /KeyError: 'missing'/);
});

test("a worker's failed init_function fixture decodes with its traceback text", () => {
  const init = decodeWorkerHeader(fixture('worker-init-result-error.json'));
  assert.ok(init.type === 'init_result' && !init.ok);
  assert.match(init.ok ? '' : init.traceback, /in init_function/);
});

test('unknown resource keys are refused, naming the key and the task', () => {
  assert.throws(
    () => decodeClientHeader(fixture('invalid-submit-unknown-resource.json')),
    (error: unknown) => error instanceof ProtocolError && /colour/.test(error.message) && error.taskId === 't-2'
  );
});

test('malformed frames are refused with a reason, never thrown as something else', () => {
  const cases: [Buffer | undefined, RegExp][] = [
    [undefined, /empty message/],
    [Buffer.from('not json'), /not valid JSON/],
    [Buffer.from('{"v": 2, "type": "hello"}'), /unsupported protocol version 2/],
    [Buffer.from('{"v": 1, "type": "launch_missiles"}'), /invalid message/],
    [Buffer.from('{"v": 1, "type": "cancel", "task_id": "bad id with spaces"}'), /task_id/],
    [Buffer.alloc((1 << 20) + 1, 32), /exceeds/]
  ];
  for (const [frame, reason] of cases) {
    assert.throws(() => decodeClientHeader(frame), (e: unknown) => e instanceof ProtocolError && reason.test(e.message));
  }
});

test('a request id in a refused header is kept so the waiting call gets the answer', () => {
  const frame = Buffer.from('{"v":1,"type":"create_executor","request_id":"r7","executor_id":"e","name":"x","backend":"nope","options":{}}');
  assert.throws(() => decodeClientHeader(frame), (e: unknown) => e instanceof ProtocolError && e.requestId === 'r7');
});

test('resourceDictProblem names the key, what is wrong and what is allowed', () => {
  assert.equal(resourceDictProblem({ cores: 2, cwd: null }), null);
  assert.equal(resourceDictProblem({ cores: 0 }), "resource_dict['cores'] must be an integer ≥ 1 or None, got 0");
  assert.match(resourceDictProblem({ colour: 'red' }) ?? '', /unknown key 'colour'; allowed keys: cores, threads_per_core/);
  assert.equal(resourceDictProblem('nope'), "resource_dict must be a dict, got 'nope' (a string)");
});
