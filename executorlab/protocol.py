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



def batch(messages: list) -> list:
    """The frames of one multipart message carrying ``messages``, (header dict, blobs) pairs, in order.

    Several become a ``batch``: one JSON header listing their headers and blob counts, then their blobs.
    """
    if len(messages) == 1:
        header, blobs = messages[0]
        return [encode(header), *blobs]
    headers = [{"v": PROTOCOL_VERSION, **header} for header, _ in messages]
    frames = [encode({"type": "batch", "messages": headers, "blobs": [len(blobs) for _, blobs in messages]})]
    for _, blobs in messages:
        frames.extend(blobs)
    return frames


def unbatch(frames: list) -> list:
    """The (header dict, blobs) messages in ``frames``: its parts when it is a batch, else itself."""
    message = decode(frames[0])
    if message.get("type") != "batch":
        return [(message, frames[1:])]
    out, at = [], 1
    for header, count in zip(message["messages"], message["blobs"]):
        out.append((header, frames[at : at + count]))
        at += count
    if at != len(frames) or len(message["messages"]) != len(message["blobs"]):
        raise ValueError(f"batch blob counts add up to {at - 1} blobs but {len(frames) - 1} follow the header")
    return out
