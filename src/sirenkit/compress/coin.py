"""Image compression by overfitting a small SIREN (COIN, Dupont et al. 2021).

The image is fitted by a SIREN whose parameter count is chosen for the bit budget, the weights
are quantised per tensor (:mod:`.quantize`), fine-tuned through the rounding, and the integers
entropy-coded with an asymmetric numeral system (``constriction``) under a Gaussian fitted to
each tensor. The decoder needs nothing but the file: it rebuilds the network from the header
and evaluates it on a grid of any size.

Why the weights of a per-image network and not COIN++'s modulations of a shared one: COIN++
pays off when sender and receiver share a base network meta-learned on many images like the
one being sent; for arbitrary photographs at arbitrary sizes there is no such shared network
in sirenkit, and shipping one would cost more than the image. A per-image network is
self-contained.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import SirenkitError, optional_import
from ..metrics import psnr
from ..nets.siren import Siren
from ..render import render
from ..signals.grid import grid
from .format import Header, TensorCode, header_bytes, pack, unpack
from .quantize import dequantize, fake_quantize, qmax, quant_step, quantize

MIN_STD = 0.3
"""Floor of a coding Gaussian's standard deviation (in quantisation steps): a constant tensor
still gets a proper distribution."""


@dataclass
class CoinSettings:
    """How an image is fitted and quantised."""

    layers: int = 5
    """Linear layers of the SIREN (input and output included); the width follows the budget."""
    bits: int = 10
    """Quantisation bit depth tried first; lowered one at a time while the file is too big."""
    steps: int = 1500
    """Adam steps of the float fit (full batch, cosine decay): ~80 CPU s with the fine-tuning
    for a 256x256 image at 0.3 bpp on one thread. From 600 to 1500 steps the PSNR at 0.3 bpp
    rose 0.5-0.7 dB (astronaut, rocket), which is what puts it above JPEG's on the built-ins
    (benchmarks.compress); a higher learning rate instead (5e-3, 600 steps) did not."""
    qat_steps: int = 200
    """Steps of fine-tuning through the quantisation at the final bit depth."""
    lr: float = 2e-3
    """Peak learning rate of the float fit (fine-tuning uses a tenth)."""
    w0: float = 30.0
    """First-layer frequency."""
    bits_saved: float = 0.7
    """Bits per weight the entropy coder is expected to save below ``bits``, used to pick the
    width before fitting (the file size is measured afterwards)."""
    seed: int = 0


@dataclass
class Compressed:
    """A compressed image and what it cost."""

    data: bytes
    header: Header
    bpp: float
    """Bits per pixel of the whole file (header included)."""
    psnr: float
    """PSNR of the decoded image at its own size against the input."""
    seconds: float
    """CPU seconds of fitting and coding."""


def siren_parameters(hidden: int, layers: int, channels: int) -> int:
    """Parameter count of a 2-D SIREN with ``layers`` linear layers of width ``hidden``."""
    return 3 * hidden + (layers - 2) * (hidden * hidden + hidden) + hidden * channels + channels


def width_for_budget(payload_bits: float, layers: int, channels: int, bits_per_weight: float):
    """The widest SIREN whose weights fit ``payload_bits`` at ``bits_per_weight`` (0 if none)."""
    hidden = 0
    while siren_parameters(hidden + 1, layers, channels) * bits_per_weight <= payload_bits:
        hidden += 1
    return hidden


def build_siren(header: Header) -> Siren:
    """The (untrained) network a header describes."""
    return Siren(
        2,
        header.hidden,
        header.layers - 2,
        header.channels,
        w0=header.w0,
        hidden_w0=header.hidden_w0,
    )


def fit(
    model: Siren,
    coords: torch.Tensor,
    target: torch.Tensor,
    steps: int,
    lr: float,
    bits: int | None = None,
) -> None:
    """Full-batch Adam with cosine decay to lr/20; with ``bits``, through the quantiser."""
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps), eta_min=lr / 20)
    for _ in range(steps):
        if bits is None:
            pred = model(coords)
        else:
            quantised = {n: fake_quantize(p, bits) for n, p in zip(names, params, strict=True)}
            pred = torch.func.functional_call(model, quantised, (coords,))
        loss = torch.mean((pred - target) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()


def _coding_model(code: TensorCode, bits: int):
    constriction = optional_import("constriction", "compress", ".sirenz coding")
    q = qmax(bits)
    return constriction.stream.model.QuantizedGaussian(-q, q, code.mean, code.std)


def encode_weights(model: Siren, bits: int) -> tuple[tuple[TensorCode, ...], bytes]:
    """Quantise every tensor and entropy-code the integers; returns the codes and payload."""
    constriction = optional_import("constriction", "compress", ".sirenz coding")
    codes, symbols = [], []
    for w in model.state_dict().values():
        step = quant_step(w, bits)
        q = quantize(w, step, bits).flatten().numpy()
        # the header stores mean and std as float16: code with exactly what the decoder reads
        mean = float(np.float16(q.mean()))
        std = float(np.float16(max(float(q.std()), MIN_STD)))
        codes.append(TensorCode(float(np.float32(step)), mean, std))
        symbols.append(q)
    coder = constriction.stream.stack.AnsCoder()
    for code, q in zip(reversed(codes), reversed(symbols), strict=True):  # a stack: last in first
        coder.encode_reverse(q.astype(np.int32), _coding_model(code, bits))
    return tuple(codes), coder.get_compressed().astype("<u4").tobytes()


def decode_weights(header: Header, payload: bytes, source: str = "file") -> Siren:
    """The network of a parsed file, with its dequantised weights."""
    constriction = optional_import("constriction", "compress", ".sirenz coding")
    model = build_siren(header)
    if len(payload) % 4:
        raise SirenkitError(f"{source} is corrupt (payload is not whole 32-bit words)")
    coder = constriction.stream.stack.AnsCoder(np.frombuffer(payload, "<u4").astype(np.uint32))
    state = {}
    try:
        for (name, ref), code in zip(model.state_dict().items(), header.tensors, strict=True):
            q = coder.decode(_coding_model(code, header.bits), ref.numel())
            q = torch.from_numpy(np.asarray(q, dtype=np.int32)).reshape(ref.shape)
            state[name] = dequantize(q, code.step)
    except (ValueError, RuntimeError, OverflowError) as e:
        raise SirenkitError(f"{source} is corrupt (payload does not decode: {e})") from None
    model.load_state_dict(state)
    return model.eval()


def compress_image(image: np.ndarray, bpp: float, settings: CoinSettings) -> Compressed:
    """Compress a [-1, 1] ``(H, W, C)`` image into at most ``bpp`` bits per pixel.

    Raises:
        SirenkitError: when the budget cannot hold even a width-1 network, or no bit depth
            down to 4 fits it.
    """
    s = settings
    if not math.isfinite(bpp) or bpp <= 0:
        raise SirenkitError(f"--bpp must be a positive number, got {bpp}")
    if s.layers < 2 or s.steps < 0 or s.qat_steps < 0 or not 4 <= s.bits <= 16:
        raise SirenkitError("--layers must be >= 2, --steps >= 0 and --bits in [4, 16]")
    h, w, c = image.shape
    if max(h, w) > 65535 or c > 255:
        raise SirenkitError(f"image of shape {image.shape} is too large for .sirenz")
    t0 = time.process_time()
    budget = bpp * h * w
    payload_bits = budget - 8 * header_bytes(s.layers)
    hidden = width_for_budget(payload_bits, s.layers, c, s.bits - s.bits_saved)
    if hidden < 1:
        need = (8 * header_bytes(s.layers) + siren_parameters(1, s.layers, c) * s.bits) / (h * w)
        raise SirenkitError(
            f"--bpp {bpp} is too low for a {h}x{w} image: the header alone needs "
            f"{8 * header_bytes(s.layers) / (h * w):.3f} bpp (at least {need:.3f} with a network)"
        )
    torch.manual_seed(s.seed)
    model = Siren(2, hidden, s.layers - 2, c, w0=s.w0)
    coords = grid((h, w))
    target = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(-1, c)
    fit(model, coords, target, s.steps, s.lr)
    floating = {k: v.clone() for k, v in model.state_dict().items()}
    for bits in range(s.bits, 3, -1):
        model.load_state_dict(floating)
        fit(model, coords, target, s.qat_steps, s.lr / 10, bits=bits)
        codes, payload = encode_weights(model, bits)
        header = Header(h, w, c, hidden, s.layers, s.w0, model.hidden_w0, bits, codes)
        data = pack(header, payload)
        if 8 * len(data) <= budget:
            break
    else:
        raise SirenkitError(f"no bit depth from {s.bits} down to 4 fits --bpp {bpp}")
    seconds = time.process_time() - t0
    decoded = decompress(data)
    return Compressed(data, header, 8 * len(data) / (h * w), psnr(decoded, image), seconds)


def decompress(
    data: bytes, size: tuple[int, int] | None = None, source: str = "file"
) -> np.ndarray:
    """A ``.sirenz`` file's image, ``(H, W, C)`` in [-1, 1], at its own size or ``size``."""
    header, payload = unpack(data, source)
    model = decode_weights(header, payload, source)
    shape = (header.height, header.width) if size is None else tuple(size)
    if len(shape) != 2 or min(shape) < 1:
        raise SirenkitError(f"--size must be two positive ints, got {size}")
    return render(model, shape).clamp(-1, 1).numpy()
