// A CURVE-secured ROUTER socket with a receive loop and a serial send queue (zeromq.js allows one
// pending send per socket).
import * as zmq from 'zeromq';

export type Frames = Buffer[];
export type Handler = (peer: Buffer, frames: Frames) => void | Promise<void>;

export interface EndpointOptions {
  /** Interface to bind, e.g. 127.0.0.1 (workstation) or 0.0.0.0 (workers on other nodes). */
  host: string;
  secretKey: string;
  publicKey: string;
  /** Frames larger than this are refused by libzmq before they reach us. */
  maxMessageBytes: number;
}

export class RouterEndpoint {
  // A peer that went away makes a mandatory ROUTER wait for it; the timeout turns that into an error
  // so one dead peer never stalls the send queue for everyone else.
  private readonly socket = new zmq.Router({ mandatory: true, linger: 0, sendTimeout: 2000 });
  private sending: Promise<void> = Promise.resolve();
  private closed = false;
  address = '';

  constructor(
    private readonly name: string,
    private readonly options: EndpointOptions,
    private readonly handler: Handler,
    private readonly log: (line: string) => void
  ) {
    this.socket.curveServer = true;
    this.socket.curveSecretKey = options.secretKey;
    this.socket.curvePublicKey = options.publicKey;
    this.socket.maxMessageSize = options.maxMessageBytes;
    this.socket.zapDomain = 'executorlab';
  }

  async bind(): Promise<string> {
    await this.socket.bind(`tcp://${this.options.host}:0`);
    this.address = this.socket.lastEndpoint ?? '';
    void this.loop();
    return this.address;
  }

  send(peer: Buffer, frames: (Buffer | string)[]): Promise<void> {
    const next = this.sending.then(async () => {
      if (this.closed) return;
      try {
        await this.socket.send([peer, ...frames]);
      } catch (error) {
        this.log(`${this.name}: could not send to ${peer.toString('hex')}: ${(error as Error).message}`);
      }
    });
    this.sending = next;
    return next;
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      let message: Buffer[];
      try {
        message = await this.socket.receive();
      } catch (error) {
        if (this.closed) return;
        this.log(`${this.name}: receive failed: ${(error as Error).message}`);
        continue;
      }
      const [peer, ...frames] = message;
      try {
        await this.handler(peer, frames);
      } catch (error) {
        // The handler answers bad input itself; anything reaching here is a bridge bug, never fatal.
        this.log(`${this.name}: handler failed: ${(error as Error).stack ?? error}`);
      }
    }
  }
}
