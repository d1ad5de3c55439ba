// The real bridge in-process: CURVE + ZAP on the client endpoint, the token on the HTTP API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { Bridge } from '../bridge.js';
import type { ConnectionInfo } from '../connection-file.js';

// One bridge per process, as in production: ZAP's inproc endpoint exists once per ZeroMQ context.
let bridge: Bridge;
let info: ConnectionInfo;
let file: string;

before(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'bridge-test-')), 'bridge.json');
  bridge = new Bridge({ connectionFile: file, zmqHost: '127.0.0.1', httpHost: '127.0.0.1', httpPort: 0, maxMessageBytes: 1 << 20, cacheRoots: [],
    clientTimeoutMs: 15_000, log: () => {} });
  info = await bridge.start();
});

after(() => bridge.stop());

async function hello(info: ConnectionInfo, keys: { publicKey: string; secretKey: string }): Promise<unknown> {
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 1500 });
  dealer.curveServerKey = info.server_public_key;
  dealer.curvePublicKey = keys.publicKey;
  dealer.curveSecretKey = keys.secretKey;
  dealer.connect(info.client_endpoint);
  try {
    await dealer.send(JSON.stringify({ v: 1, type: 'hello', client_id: 'k-test', pid: 1, python: 'python3', kernel_id: null, pythonpath: [] }));
    const [header] = await dealer.receive();
    return JSON.parse(header.toString());
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    dealer.close();
  }
}

test('connection files are private; only the issued client key gets an answer', async () => {
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(file.replace(/\.json$/, '-worker.json')).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), info);
  const welcome = (await hello(info, { publicKey: info.client_public_key, secretKey: info.client_secret_key })) as { type: string };
  assert.equal(welcome.type, 'welcome');
  assert.equal(await hello(info, zmq.curveKeyPair()), 'EAGAIN');
});

test('the HTTP API wants the token and says what exists', async () => {
  const get = (path: string, token?: string) =>
    fetch(`${info.http_url}${path}`, { headers: token ? { Authorization: `token ${token}` } : {} });
  assert.equal((await get('/api/status')).status, 403);
  assert.equal((await get('/api/status', 'wrong')).status, 403);
  const status = (await (await get("/api/status", info.token)).json()) as { pid: number };
  assert.equal(status.pid, process.pid);
  assert.deepEqual(await (await get('/api/tasks', info.token)).json(), { tasks: [] });
  const missing = await get('/api/nothing', info.token);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /\/api\/tasks/);
});
