// The `batch` envelope: several messages to one peer in one ZeroMQ message of two frames, so a burst of
// small messages (submits, tasks, results) costs one send, one JSON parse and two frames instead of
// a send and a frame per message and blob.
//   frame 0: {"v": 1, "type": "batch", "messages": [header1, ...], "blobs": [[bytes, ...], ...]}
//   frame 1: the blobs of every message, in order, back to back (their lengths are in "blobs")
// A message with a blob of BIG_BLOB bytes or more travels on its own, as header and blob frames.
import { MAX_HEADER, ProtocolError, PROTOCOL_VERSION, parseJson } from './messages.js';

/** Messages per batch at most, in either direction. */
export const MAX_BATCH = 10_000;
/** Blobs this large are not copied into a batch. */
export const BIG_BLOB = 1 << 16;
/** A batch header holds many headers, so it may be larger than one message's. */
const MAX_BATCH_HEADER = 64 << 20;

export interface Unpacked {
  /** The message's header, parsed but not validated. */
  header: unknown;
  blobs: Buffer[];
}

/** The messages inside `frames`: its parts when it is a batch, else itself. Throws ProtocolError. */
export function unbatch(frames: Buffer[]): Unpacked[] {
  const raw = parseJson(frames[0], MAX_BATCH_HEADER);
  if ((raw as { type?: unknown } | null)?.type !== 'batch') {
    if (frames[0].length > MAX_HEADER) throw new ProtocolError(`header of ${frames[0].length} bytes exceeds ${MAX_HEADER}`);
    return [{ header: raw, blobs: frames.slice(1) }];
  }
  const { v, messages, blobs } = raw as { v?: unknown; messages?: unknown; blobs?: unknown };
  if (v !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported protocol version ${JSON.stringify(v)}; this bridge speaks v${PROTOCOL_VERSION}`);
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BATCH) {
    throw new ProtocolError(`invalid batch: "messages" must hold 1 to ${MAX_BATCH} headers`);
  }
  if (!Array.isArray(blobs) || blobs.length !== messages.length) {
    throw new ProtocolError('invalid batch: "blobs" must list the blob lengths of each message');
  }
  if (frames.length !== 2) throw new ProtocolError(`invalid batch: it is 2 frames (header, blobs), got ${frames.length}`);
  const data = frames[1];
  const out: Unpacked[] = [];
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const lengths: unknown = blobs[i];
    if (!Array.isArray(lengths)) throw new ProtocolError('invalid batch: "blobs" must list the blob lengths of each message');
    const parts: Buffer[] = [];
    for (const n of lengths as unknown[]) {
      if (!Number.isInteger(n) || (n as number) < 0) throw new ProtocolError('invalid batch: every blob length must be an integer >= 0');
      parts.push(data.subarray(at, at + (n as number)));
      at += n as number;
    }
    out.push({ header: messages[i], blobs: parts });
  }
  if (at !== data.length) {
    throw new ProtocolError(`invalid batch: the blob lengths add up to ${at} bytes but the blob frame has ${data.length}`);
  }
  return out;
}

export interface Outgoing {
  header: object;
  blobs: Buffer[];
}

/** The ZeroMQ messages (frame lists) that carry `messages` in order: batches, and big ones alone. */
export function batch(messages: Outgoing[]): Buffer[][] {
  const out: Buffer[][] = [];
  let run: Outgoing[] = [];
  const endRun = (): void => {
    if (run.length === 1) out.push(plain(run[0]));
    else if (run.length > 1) {
      const header = { v: PROTOCOL_VERSION, type: 'batch', messages: run.map(m => m.header), blobs: run.map(m => m.blobs.map(b => b.length)) };
      out.push([encodeJson(header), Buffer.concat(run.flatMap(m => m.blobs))]);
    }
    run = [];
  };
  for (const message of messages) {
    if (message.blobs.some(blob => blob.length >= BIG_BLOB)) {
      endRun();
      out.push(plain(message));
    } else {
      run.push(message);
      if (run.length === MAX_BATCH) endRun();
    }
  }
  endRun();
  return out;
}

function plain(message: Outgoing): Buffer[] {
  return [encodeJson(message.header), ...message.blobs];
}

function encodeJson(value: object): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
