// The few pickles the bridge reads or writes itself: a float (a cache file's `runtime`) and small
// numbers (`queue_id`). Everything else stays opaque bytes; the bridge never unpickles.

/** A pickle that loads as the float `value` (protocol 4: PROTO, BINFLOAT, STOP). */
export function pickleFloat(value: number): Uint8Array {
  const bytes = new Uint8Array(12);
  bytes.set([0x80, 4, 0x47]);
  new DataView(bytes.buffer).setFloat64(3, value, false);
  bytes[11] = 0x2e;
  return bytes;
}

/**
 * The number a pickle of one float or int holds, or null for anything else (a pickle is read only as
 * far as these opcodes go: nothing is executed).
 */
export function unpickleNumber(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  if (bytes[at] === 0x80) at += 2; // PROTO n
  if (bytes[at] === 0x95) at += 9; // FRAME <8-byte length>
  const op = bytes[at];
  let value: number | null = null;
  let end = at + 1;
  if (op === 0x47 && bytes.length >= at + 9) [value, end] = [view.getFloat64(at + 1, false), at + 9]; // BINFLOAT
  else if (op === 0x4b && bytes.length >= at + 2) [value, end] = [bytes[at + 1], at + 2]; // BININT1
  else if (op === 0x4d && bytes.length >= at + 3) [value, end] = [view.getUint16(at + 1, true), at + 3]; // BININT2
  else if (op === 0x4a && bytes.length >= at + 5) [value, end] = [view.getInt32(at + 1, true), at + 5]; // BININT
  else if (op === 0x8a && bytes.length >= at + 2) {
    // LONG1: n little-endian two's-complement bytes (a job id beyond 2**31)
    const n = bytes[at + 1];
    if (n <= 6 && bytes.length >= at + 2 + n) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + bytes[at + 2 + i];
      if (n > 0 && bytes[at + 1 + n] & 0x80) v -= 2 ** (8 * n);
      [value, end] = [v, at + 2 + n];
    }
  }
  return value !== null && bytes[end] === 0x2e ? value : null;
}

/** A pickle that loads as the int `value` (protocol 4, LONG1): a job's queue_id, flux ids beyond 2**53 too. */
export function pickleInt(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  // Little-endian two's complement, as short as it can be.
  while (!((v === 0n && (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) === 0)) || (v === -1n && bytes.length > 0 && bytes[bytes.length - 1] & 0x80))) {
    bytes.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return Uint8Array.from([0x80, 4, 0x8a, bytes.length, ...bytes, 0x2e]);
}

/** The int a pickle holds, exactly (BININT1/2, BININT, LONG1 up to 8 bytes); null for anything else. */
export function unpickleInt(bytes: Uint8Array): bigint | null {
  let at = 0;
  if (bytes[at] === 0x80) at += 2;
  if (bytes[at] === 0x95) at += 9;
  const op = bytes[at];
  if (op === 0x8a) {
    const n = bytes[at + 1];
    if (n > 8 || bytes.length < at + 3 + n || bytes[at + 2 + n] !== 0x2e) return null;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + 2 + i]);
    if (n > 0 && bytes[at + 1 + n] & 0x80) v -= 1n << BigInt(8 * n);
    return v;
  }
  const small = unpickleNumber(bytes);
  return small !== null && Number.isInteger(small) ? BigInt(small) : null;
}
