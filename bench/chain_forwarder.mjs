// The bridge's hops without the bridge: two CURVE ROUTER sockets (kernels, workers) in one Node.js
// process with zeromq.js, forwarding every message from the kernel to the worker and back unchanged.
// bench/roundtrip.py times a round trip through it: the floor of the architecture on this machine.
import * as zmq from 'zeromq';

const keys = zmq.curveKeyPair();
async function router() {
  const socket = new zmq.Router({ linger: 0 });
  socket.curveServer = true;
  socket.curveSecretKey = keys.secretKey;
  socket.curvePublicKey = keys.publicKey;
  await socket.bind('tcp://127.0.0.1:0');
  return socket;
}

const kernels = await router();
const workers = await router();
console.log(JSON.stringify({ kernels: kernels.lastEndpoint, workers: workers.lastEndpoint, server_public_key: keys.publicKey }));
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
  kernel = peer;
  await workers.send([worker, ...frames]);
}
