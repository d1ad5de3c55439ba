// The `batch` envelope: several messages to one peer in one ZeroMQ message, so a burst of small
// messages (submits, tasks, results) costs one send, one JSON parse and one wake-up instead of one each.
//   frame 0: {"v": 1, "type": "batch", "messages": [header1, header2, ...], "blobs": [n1, n2, ...]}
//   then the n1 blobs of the first message, the n2 blobs of the second, ...
import { ProtocolError, PROTOCOL_VERSION, parseJson } from './messages.js';

/** Messages per batch at most, in either direction. */
export const MAX_BATCH = 10_000;
/** A batch header holds many headers: allow more than one message's 1 MiB. */
const MAX_BATCH_HEADER = 64 << 20;

export interface Unpacked {
  /** The message's header, parsed but not validated. */
  header: unknown;
  blobs: Buffer[];
}

/** The messages inside `frames`: its parts when it is a batch, else itself. Throws ProtocolError. */
export function unbatch(frames: Buffer[]): Unpacked[] {
  const raw = parseJson(frames[0], MAX_BATCH_HEADER);
  if ((raw as { type?: unknown } | null)?.type !== 'batch') return [{ header: raw, blobs: frames.slice(1) }];
  const { v, messages, blobs } = raw as { v?: unknown; messages?: unknown; blobs?: unknown };
  if (v !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported protocol version ${JSON.stringify(v)}; this bridge speaks v${PROTOCOL_VERSION}`);
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BATCH) {
    throw new ProtocolError(`invalid batch: "messages" must hold 1 to ${MAX_BATCH} headers`);
  }
  if (!Array.isArray(blobs) || blobs.length !== messages.length) {
    throw new ProtocolError('invalid batch: "blobs" must give the number of blobs of each message');
  }
  const out: Unpacked[] = [];
  let at = 1;
  for (let i = 0; i < messages.length; i++) {
    const n: unknown = blobs[i];
    if (!Number.isInteger(n) || (n as number) < 0) throw new ProtocolError('invalid batch: every blob count must be an integer >= 0');
    out.push({ header: messages[i], blobs: frames.slice(at, at + (n as number)) });
    at += n as number;
  }
  if (at !== frames.length) {
    throw new ProtocolError(`invalid batch: the blob counts add up to ${at - 1} blobs but ${frames.length - 1} follow the header`);
  }
  return out;
}

export interface Outgoing {
  header: object;
  blobs: Buffer[];
}

/** One ZeroMQ message carrying `messages`, in order. */
export function batch(messages: Outgoing[]): Buffer[] {
  if (messages.length === 1) return [encodeJson(messages[0].header), ...messages[0].blobs];
  const header = { v: PROTOCOL_VERSION, type: 'batch', messages: messages.map(m => m.header), blobs: messages.map(m => m.blobs.length) };
  const frames = [encodeJson(header)];
  for (const m of messages) for (const blob of m.blobs) frames.push(blob);
  return frames;
}

function encodeJson(value: object): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
