"""Signed checkpoints of the audit log: what is signed, in which format version (pure).

Version 2 (written since 2026-12-07) signs the log's name, tree size, root, time, the number
of streams (leaves of seq 1: every stream begins with one) and the key id, with `"v": 2`.
Version 1 (no "v") signed a digest of every stream's newest sealed event instead of the
count of seq-1 leaves (`heads_v1`). Both are read and verified; only version 2 is written.

Why version 2 signs no separate heads digest: each stream's head is its newest sealed leaf,
and the root already binds every leaf in order (RFC 6962), so the heads a verifier derives
from the leaves that give the signed root are exactly the sealed heads; a digest of them
added no check the root does not make, and keeping it up to date cost two 2,048-bit set-hash
terms per touched stream at every checkpoint (most of an incremental checkpoint's time).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from khenthuong.audit.chain import canonical_json, timestamp_text

LOG_NAME = "khenthuong-audit"
"""Names the log in every signed checkpoint (a signature over another log's head fails)."""

VERSION = 2
"""The format version the sealer writes."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: names the key in each checkpoint."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head. `body` is the exact signed text; the fields are read from it."""

    body: str
    signature: str
    size: int
    root: str
    time: str
    streams: int
    """Version 1: streams with a sealed event; version 2: sealed leaves of seq 1."""
    heads: str | None
    """Version 1 only: the digest of every stream's newest sealed event (`heads_v1`)."""
    key: str
    version: int = VERSION

    @classmethod
    def parse(cls, body: str, signature: str) -> Checkpoint:
        """Read a checkpoint's fields from its signed text (ValueError when malformed or of
        an unknown version)."""
        try:
            data = json.loads(body)
            if data.get("log") != LOG_NAME:
                raise ValueError(f"not a checkpoint of {LOG_NAME}")
            version = int(data.get("v", 1))
            if version not in (1, 2):
                raise ValueError(f"unknown checkpoint version {version}")
            return cls(
                body,
                signature,
                int(data["size"]),
                str(data["root"]),
                str(data["time"]),
                int(data["streams"]),
                str(data["heads"]) if version == 1 else None,
                str(data["key"]),
                version,
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed checkpoint: {exc}") from None

    def line(self) -> str:
        """One line of the checkpoint file."""
        return json.dumps({"checkpoint": self.body, "signature": self.signature})

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """The inverse of `line` (ValueError when malformed)."""
        try:
            data = json.loads(line)
            return cls.parse(str(data["checkpoint"]), str(data["signature"]))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed checkpoint line: {exc}") from None

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """True when the signature is this key's over exactly `body`."""
        try:
            public_key.verify(bytes.fromhex(self.signature), self.body.encode("utf-8"))
        except (InvalidSignature, ValueError):
            return False
        return True


def sign_checkpoint(
    key: Ed25519PrivateKey, *, size: int, root: str, now: datetime, streams: int
) -> Checkpoint:
    """A version 2 checkpoint of these values signed with `key`."""
    body = canonical_json(
        {
            "log": LOG_NAME,
            "v": VERSION,
            "size": size,
            "root": root,
            "time": timestamp_text(now),
            "streams": streams,
            "key": key_id(key.public_key()),
        }
    )
    signature = key.sign(body.encode("utf-8")).hex()
    return Checkpoint.parse(body, signature)
