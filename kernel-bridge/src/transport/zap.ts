// ZAP handler (ZeroMQ RFC 27): CURVE alone encrypts but lets any key pair in; this admits only the
// client keys this bridge issued, so nobody else on the network gets a byte to the scheduler.
import * as zmq from 'zeromq';
import { z85Encode } from './z85.js';

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

export class ZapAuthenticator {
  private readonly socket = new zmq.Router();
  private readonly allowed = new Set<string>();
  private closed = false;

  async start(): Promise<void> {
    await this.socket.bind(ZAP_ENDPOINT);
    void this.loop();
  }

  allow(publicKey: string): void {
    this.allowed.add(publicKey);
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch {
        if (this.closed) return;
        continue;
      }
      // [routing id, '', version, request id, domain, address, identity, mechanism, credentials...]
      const [routing, , version, requestId, , , , mechanism, key] = frames;
      const ok = mechanism?.toString() === 'CURVE' && key?.length === 32 && this.allowed.has(z85Encode(key));
      await this.socket.send([
        routing,
        '',
        version ?? '1.0',
        requestId ?? '',
        ok ? '200' : '400',
        ok ? 'OK' : 'unknown client key',
        '',
        ''
      ]);
    }
  }
}
