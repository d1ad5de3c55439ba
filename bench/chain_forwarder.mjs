// The bridge's hops without the bridge: two ROUTER sockets (kernels, workers) on IPC in a private
// directory, in one Node.js process with zeromq.js, forwarding every message unchanged. The first
// message on the kernels' socket comes from the kernel's receiving socket (its hello, echoed as the
// welcome): answers go there.
// bench/roundtrip.py times a round trip through it: the floor of the architecture on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';

const directory = mkdtempSync(join(tmpdir(), 'executorlab-chain-'));
process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

async function router(name) {
  const socket = new zmq.Router({ linger: 0 });
  await socket.bind(`ipc://${join(directory, name)}`);
  return socket;
}

const kernels = await router('kernels');
const workers = await router('workers');
console.log(JSON.stringify({ kernels: kernels.lastEndpoint, workers: workers.lastEndpoint }));
let worker = null;
let kernel = null;
void (async () => {
  for await (const [peer, ...frames] of workers) {
    if (worker === null) {
      worker = peer; // its first message says hello
      console.log('ready');
    } else {
      await kernels.send([kernel, ...frames]);
    }
  }
})();
for await (const [peer, ...frames] of kernels) {
  if (kernel === null) {
    kernel = peer;
    await kernels.send([peer, ...frames]);
  } else {
    await workers.send([worker, ...frames]);
  }
}
