"""The wire format shared with the bridge (kernel-bridge/src/protocol/messages.ts and batch.ts are the definition)."""

import json

PROTOCOL_VERSION = 1


def encode(message: dict) -> bytes:
    return json.dumps({"v": PROTOCOL_VERSION, **message}, separators=(",", ":")).encode("utf-8")


def decode(frame: bytes) -> dict:
    message = json.loads(frame.decode("utf-8"))
    if not isinstance(message, dict) or message.get("v") != PROTOCOL_VERSION:
        raise ValueError(f"not an executorlab v{PROTOCOL_VERSION} message: {frame[:200]!r}")
    return message



# As in kernel-bridge/src/protocol/batch.ts: blobs this large are not copied into a batch; a batch holds
# at most MAX_BATCH messages.
BIG_BLOB = 1 << 16
MAX_BATCH = 10_000


def batch(messages: list) -> list:
    """The multipart messages (frame lists) carrying ``messages``, (header dict, blobs) pairs, in order.

    Consecutive small messages (at most MAX_BATCH) become one ``batch`` of two frames: a JSON header
    listing their headers and blob lengths, and their blobs back to back. A message with a big blob
    travels on its own.
    """
    out, run = [], []

    def end_run():
        if len(run) == 1:
            header, blobs = run[0]
            out.append([encode(header), *blobs])
        elif run:
            headers = [{"v": PROTOCOL_VERSION, **header} for header, _ in run]
            lengths = [[len(blob) for blob in blobs] for _, blobs in run]
            data = b"".join(blob for _, blobs in run for blob in blobs)
            out.append([encode({"type": "batch", "messages": headers, "blobs": lengths}), data])
        run.clear()

    for header, blobs in messages:
        if any(len(blob) >= BIG_BLOB for blob in blobs):
            end_run()
            out.append([encode(header), *blobs])
        else:
            run.append((header, blobs))
            if len(run) == MAX_BATCH:
                end_run()
    end_run()
    return out


def unbatch(frames: list) -> list:
    """The (header dict, blobs) messages in ``frames``: its parts when it is a batch, else itself."""
    message = decode(frames[0])
    if message.get("type") != "batch":
        return [(message, frames[1:])]
    headers, lengths = message.get("messages"), message.get("blobs")
    if not isinstance(headers, list) or not isinstance(lengths, list) or len(headers) != len(lengths):
        raise ValueError('batch "messages" and "blobs" must be lists of the same length')
    if len(frames) != 2:
        raise ValueError(f"a batch is 2 frames (header, blobs), got {len(frames)}")
    data, at, out = frames[1], 0, []
    for header, sizes in zip(headers, lengths):
        if not isinstance(sizes, list):
            raise ValueError('batch "blobs" must list the blob lengths of each message')
        blobs = []
        for size in sizes:
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError(f"batch blob lengths must be integers >= 0, got {size!r}")
            blobs.append(data[at : at + size])
            at += size
        out.append((header, blobs))
    if at != len(data):
        raise ValueError(f"batch blob lengths add up to {at} bytes but the blob frame has {len(data)}")
    return out
