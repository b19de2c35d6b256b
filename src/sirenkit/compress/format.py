"""The ``.sirenz`` container: a quantised SIREN with a header that makes the file self-describing.

Layout (little-endian)::

    magic "SIRENZ" | version u8 | height u16 | width u16 | channels u8
    | hidden u16 | layers u8 | w0 f32 | hidden_w0 f32 | bits u8
    | per weight tensor (2 * layers of them, in state_dict order): step f32, mean f16, std f16
    | payload length u32 | payload (ANS words) | CRC-32 of everything before it, u32

The file holds everything a decoder needs: the network's architecture, the image's shape
(so that the default rendering has the original size), the quantisation step of every tensor
and the parameters of the Gaussian each tensor's integers were entropy-coded with. The
trailing checksum catches truncation and bit flips before any value is trusted.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ..errors import SirenkitError

MAGIC = b"SIRENZ"
VERSION = 1
_FIXED = struct.Struct("<6sBHHBHBffB")
_TENSOR = struct.Struct("<fee")
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class TensorCode:
    """How one weight tensor was quantised and coded."""

    step: float
    """Quantisation step: the tensor is ``step * q`` with integer ``q``."""
    mean: float
    """Mean of the Gaussian the integers ``q`` were entropy-coded with."""
    std: float
    """Its standard deviation (in units of ``q``)."""


@dataclass(frozen=True)
class Header:
    """Everything about a compressed image except the coded integers."""

    height: int
    width: int
    channels: int
    hidden: int
    """Width of the SIREN's hidden layers."""
    layers: int
    """Linear layers in all (input and output included)."""
    w0: float
    hidden_w0: float
    bits: int
    """Quantisation bit depth: integers lie in ``[-(2^(bits-1) - 1), 2^(bits-1) - 1]``."""
    tensors: tuple[TensorCode, ...]

    @property
    def qmax(self) -> int:
        return 2 ** (self.bits - 1) - 1


def header_bytes(layers: int) -> int:
    """Bytes of a file that are not payload: what the rate budget must set aside."""
    return _FIXED.size + 2 * layers * _TENSOR.size + 2 * _U32.size


def pack(header: Header, payload: bytes) -> bytes:
    """The complete file: header, payload and checksum."""
    if len(header.tensors) != 2 * header.layers:
        raise ValueError(f"{len(header.tensors)} tensor codes for {header.layers} layers")
    parts = [
        _FIXED.pack(
            MAGIC,
            VERSION,
            header.height,
            header.width,
            header.channels,
            header.hidden,
            header.layers,
            header.w0,
            header.hidden_w0,
            header.bits,
        )
    ]
    parts += [_TENSOR.pack(t.step, t.mean, t.std) for t in header.tensors]
    parts += [_U32.pack(len(payload)), payload]
    body = b"".join(parts)
    return body + _U32.pack(zlib.crc32(body))


def unpack(data: bytes, source: str = "file") -> tuple[Header, bytes]:
    """Parse and verify a ``.sirenz`` file; every defect is a one-line :class:`SirenkitError`."""
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise SirenkitError(f"{source} is not a .sirenz file (no SIRENZ magic)")
    if len(data) < _FIXED.size:
        raise SirenkitError(f"{source} is truncated ({len(data)} bytes, header incomplete)")
    _, version, h, w, c, hidden, layers, w0, hidden_w0, bits = _FIXED.unpack_from(data)
    if version > VERSION:
        raise SirenkitError(
            f"{source} has .sirenz version {version}; this sirenkit reads up to {VERSION}: "
            "upgrade sirenkit"
        )
    at = _FIXED.size + 2 * layers * _TENSOR.size
    if len(data) < at + _U32.size:
        raise SirenkitError(f"{source} is truncated ({len(data)} bytes, header incomplete)")
    (n_payload,) = _U32.unpack_from(data, at)
    expected = at + _U32.size + n_payload + _U32.size
    if len(data) < expected:
        raise SirenkitError(f"{source} is truncated ({len(data)} of {expected} bytes)")
    if len(data) > expected:
        raise SirenkitError(f"{source} is corrupt ({len(data) - expected} bytes after the end)")
    body, (crc,) = data[:-4], _U32.unpack_from(data, len(data) - 4)
    if zlib.crc32(body) != crc:
        raise SirenkitError(f"{source} is corrupt (checksum mismatch)")
    tensors = tuple(
        TensorCode(*_TENSOR.unpack_from(data, _FIXED.size + i * _TENSOR.size))
        for i in range(2 * layers)
    )
    header = Header(h, w, c, hidden, layers, w0, hidden_w0, bits, tensors)
    if min(h, w, c, hidden) < 1 or layers < 2 or not 2 <= bits <= 16:
        raise SirenkitError(f"{source} is corrupt (impossible header values {header})")
    payload = data[at + _U32.size : at + _U32.size + n_payload]
    return header, payload
