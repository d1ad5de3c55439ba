// Where kernels or workers reach the bridge: a CURVE-secured TCP ROUTER for peers on other hosts and an
// IPC ROUTER in a private directory for peers on this host, with one receive loop each and one
// coalescing send queue (zeromq.js allows one pending send per socket, and every send costs a wake-up on
// both sides). On this host IPC without CURVE makes a round trip ~80 µs faster; the directory's mode
// (0700) keeps other users out as the 0600 key files do for TCP.
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { batch, type Outgoing } from '../protocol/batch.js';

export type Frames = Buffer[];
export type Handler = (peer: Buffer, frames: Frames) => void | Promise<void>;

export interface EndpointOptions {
  /** Interface to bind, e.g. 127.0.0.1 (workstation) or 0.0.0.0 (workers on other nodes). */
  host: string;
  secretKey: string;
  publicKey: string;
  /** A directory only this user can enter: the IPC socket is created in it. */
  ipcDirectory: string;
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

export interface EndpointAddresses {
  tcp: string;
  ipc: string;
}

// A peer that went away makes a mandatory ROUTER wait for it; the timeout turns that into an error
// so one dead peer never stalls the send queue for everyone else.
const routerOptions = { mandatory: true, linger: 0, sendTimeout: 2000 };

export class RouterEndpoint {
  private readonly tcp = new zmq.Router(routerOptions);
  private readonly ipc = new zmq.Router(routerOptions);
  /** Which socket each peer (routing id, latin1) talks to us on; peers choose unique routing ids. */
  private readonly peers = new Map<string, zmq.Router>();
  /** Messages posted since the last flush, per peer, in order. */
  private outbox = new Map<string, PeerOutbox>();
  private flushScheduled = false;
  private lastFlush = -Infinity;
  private flushing = false;
  private flushed: Promise<void> = Promise.resolve();
  private resolveFlushed: () => void = () => {};
  private closed = false;
  addresses: EndpointAddresses = { tcp: '', ipc: '' };

  constructor(
    private readonly name: string,
    private readonly options: EndpointOptions,
    private readonly handler: Handler,
    private readonly log: (line: string) => void
  ) {
    this.tcp.curveServer = true;
    this.tcp.curveSecretKey = options.secretKey;
    this.tcp.curvePublicKey = options.publicKey;
    this.tcp.zapDomain = 'executorlab';
    this.tcp.maxMessageSize = options.maxMessageBytes;
    this.ipc.maxMessageSize = options.maxMessageBytes;
  }

  async bind(): Promise<EndpointAddresses> {
    await this.tcp.bind(`tcp://${this.options.host}:0`);
    await this.ipc.bind(`ipc://${join(this.options.ipcDirectory, this.name)}`);
    this.addresses = { tcp: this.tcp.lastEndpoint ?? '', ipc: this.ipc.lastEndpoint ?? '' };
    void this.loop(this.tcp);
    void this.loop(this.ipc);
    return this.addresses;
  }

  /** Forget a peer that is gone (a worker that exited, a kernel that left). */
  forget(peer: Buffer): void {
    this.peers.delete(peer.toString('latin1'));
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
    this.tcp.close();
    this.ipc.close();
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
      for (const [key, { peer, messages }] of outbox) {
        const socket = this.peers.get(key);
        if (!socket) {
          this.log(`${this.name}: dropped ${messages.length} message(s) for ${peer.toString('hex')}, which is gone`);
          continue;
        }
        for (const frames of batch(messages)) {
          try {
            await socket.send([peer, ...frames]);
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

  private async loop(socket: zmq.Router): Promise<void> {
    while (!this.closed) {
      let message: Buffer[];
      try {
        message = await socket.receive();
      } catch (error) {
        if (this.closed) return;
        this.log(`${this.name}: receive failed: ${(error as Error).message}`);
        continue;
      }
      const [peer, ...frames] = message;
      const key = peer.toString('latin1');
      if (this.peers.get(key) !== socket) this.peers.set(key, socket);
      try {
        await this.handler(peer, frames);
      } catch (error) {
        // The handler answers bad input itself; anything reaching here is a bridge bug, never fatal.
        this.log(`${this.name}: handler failed: ${(error as Error).stack ?? error}`);
      }
    }
  }
}
