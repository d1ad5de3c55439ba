// A CURVE-secured ROUTER socket with a receive loop and a coalescing send queue (zeromq.js allows one
// pending send per socket, and every send costs a wake-up on both sides).
import * as zmq from 'zeromq';
import { batch, type Outgoing } from '../protocol/batch.js';

export type Frames = Buffer[];
export type Handler = (peer: Buffer, frames: Frames) => void | Promise<void>;

export interface EndpointOptions {
  /** Interface to bind, e.g. 127.0.0.1 (workstation) or 0.0.0.0 (workers on other nodes). */
  host: string;
  secretKey: string;
  publicKey: string;
  /** Frames larger than this are refused by libzmq before they reach us. */
  maxMessageBytes: number;
  /**
   * Under load (the previous flush less than `within` ms ago: faster than any one round trip) wait
   * `delay` ms before the next flush, so a stream of small messages leaves as a few batches while a
   * message on its own leaves at once. Without it, every flush is at once.
   */
  coalesce?: { within: number; delay: number };
}

interface PeerOutbox {
  peer: Buffer;
  messages: Outgoing[];
}

export class RouterEndpoint {
  // A peer that went away makes a mandatory ROUTER wait for it; the timeout turns that into an error
  // so one dead peer never stalls the send queue for everyone else.
  private readonly socket = new zmq.Router({ mandatory: true, linger: 0, sendTimeout: 2000 });
  /** Messages posted since the last flush, per peer, in order. */
  private outbox = new Map<string, PeerOutbox>();
  private flushScheduled = false;
  private lastFlush = -Infinity;
  private flushing = false;
  private flushed: Promise<void> = Promise.resolve();
  private resolveFlushed: () => void = () => {};
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

  /**
   * Queue a message (its header, its blobs) for `peer`. Everything queued during one turn of the event
   * loop, or while the previous flush was sending, leaves together: batches of messages per peer
   * (a message with a big blob goes on its own). Resolves once it was handed to ZeroMQ.
   */
  send(peer: Buffer, header: object, blobs: Buffer[] = []): Promise<void> {
    if (this.closed) return Promise.resolve();
    const key = peer.toString('latin1');
    let entry = this.outbox.get(key);
    if (!entry) this.outbox.set(key, (entry = { peer, messages: [] }));
    entry.messages.push({ header, blobs });
    if (!this.flushScheduled && !this.flushing) {
      this.flushScheduled = true;
      this.flushed = new Promise(resolve => (this.resolveFlushed = resolve));
      const coalesce = this.options.coalesce;
      if (coalesce && performance.now() - this.lastFlush < coalesce.within) setTimeout(this.flush, coalesce.delay);
      else setImmediate(this.flush);
    }
    return this.flushed;
  }

  close(): void {
    this.closed = true;
    this.socket.close();
    this.resolveFlushed();
  }

  private flush = async (): Promise<void> => {
    this.flushScheduled = false;
    this.flushing = true;
    this.lastFlush = performance.now();
    while (this.outbox.size > 0 && !this.closed) {
      const outbox = this.outbox;
      const done = this.resolveFlushed;
      this.outbox = new Map();
      this.flushed = new Promise(resolve => (this.resolveFlushed = resolve));
      for (const { peer, messages } of outbox.values()) {
        for (const frames of batch(messages)) {
          try {
            await this.socket.send([peer, ...frames]);
          } catch (error) {
            this.log(`${this.name}: could not send to ${peer.toString('hex')}: ${(error as Error).message}`);
            break;
          }
        }
      }
      done();
    }
    this.flushing = false;
    this.resolveFlushed();
  };

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
