"""Poisson image editing (seamless cloning) with one network, the paper's Figure 4 (right).

The network is fitted to a composite gradient field, the target's gradients outside the mask
and the source's inside (``import``), or inside whichever of the two is stronger per pixel
and channel (``mixed``, Pérez et al.'s mixed gradients), plus the target's *values* on a
region outside the mask, which plays the role of the Dirichlet boundary condition of the
classical method. One constraint (:func:`sirenkit.physics.poisson.guided_values`) makes the
loss

    relative_squared_error(gradient, composite) + value_weight * MSE(value, target on region)

with gradients in the coordinate units of the [-1, 1] grid (central differences, see
:mod:`sirenkit.signals.discrete`). The result is compared with the classical discrete
solution (:func:`sirenkit.signals.poisson.seamless_clone`) and shown next to a naive paste.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from ..errors import SirenkitError
from ..metrics import field_metrics, psnr
from ..nets.config import ModelConfig
from ..nets.registry import TaskShape
from ..physics.poisson import NAMES, guided_values, network_fields
from ..problems import Problem, ProblemTask
from ..problems.problem import Batch
from ..signals.discrete import grid_gradient
from ..signals.grid import grid
from ..signals.image import gray_image, load_image, resize, save_image, target_shape
from ..signals.poisson import seamless_clone
from ..training.config import RunOptions, TrainConfig
from ..viz.figures import Panel, displayable, save_panels

BlendMode = Literal["import", "mixed"]
ValueRegion = Literal["outside", "boundary"]


@dataclass
class BlendConfig(RunOptions):
    """Blend a region of a source image into a target by fitting one network to a composite
    gradient field (Poisson image editing / seamless cloning)."""

    source: str = "chelsea"
    """Image file or scikit-image built-in whose region is pasted (centre-cropped to the
    target's aspect ratio and resized to its size, so the two are aligned)."""
    target: str = "astronaut"
    """Image file or scikit-image built-in that receives the region."""
    mask: str | None = None
    """Mask image file, white (>= 0.5 after mapping to [0, 1]) where the source goes, of the
    target file's size or of the fitted size. None: use --rect."""
    rect: tuple[float, float, float, float] = (0.3, 0.3, 0.7, 0.7)
    """Without --mask: the region as top left bottom right, fractions of height and width."""
    mode: BlendMode = "import"
    """import: source gradients inside the mask; mixed: the stronger of source and target."""
    value_region: ValueRegion = "outside"
    """Where the target's values are fitted: every pixel outside the mask, or only the
    one-pixel ring just outside it (the classical Dirichlet boundary)."""
    value_weight: float = 100.0
    """Weight of the value term (MSE on [-1, 1] values) against the gradient term (relative
    squared error); large, so the values act as a nearly hard boundary condition."""
    size: int | None = 64
    """Resize so the target's longer side has this many pixels (None: keep its size)."""
    gray: bool = False
    """Blend gray versions of the images (the mean of their colour channels)."""
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=128))
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=200, lr=1e-3, schedule="cosine")
    )

    def setup(self) -> BlendTask:
        full = load_image(self.target)
        shape = target_shape(full.shape[:2], self.size) if self.size else full.shape[:2]
        target = resize((full + 1.0) / 2.0, shape) * 2.0 - 1.0
        source = aligned_source(load_image(self.source), shape)
        if self.gray:
            target, source = gray_image(target), gray_image(source)
        target, source = match_channels(target, source)
        if self.mask is not None:
            mask = load_mask(self.mask, full.shape[:2], shape)
        else:
            mask = rect_mask(shape, self.rect)
        return BlendTask(
            target,
            source,
            mask,
            mode=self.mode,
            value_region=self.value_region,
            value_weight=self.value_weight,
            label=f"{Path(self.source).stem}-into-{Path(self.target).stem}",
        )


def rect_mask(shape: tuple[int, int], rect: tuple[float, float, float, float]) -> np.ndarray:
    """A boolean ``(H, W)`` mask of the rectangle ``(top, left, bottom, right)`` in fractions."""
    top, left, bottom, right = (float(v) for v in rect)
    if not (0 <= top < bottom <= 1 and 0 <= left < right <= 1):
        raise SirenkitError(
            f"--rect must be top left bottom right with 0 <= top < bottom <= 1 and "
            f"0 <= left < right <= 1, got {tuple(rect)}"
        )
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    mask[round(top * h) : round(bottom * h), round(left * w) : round(right * w)] = True
    return check_mask(mask, f"--rect {tuple(rect)}")


def check_mask(mask: np.ndarray, name: str) -> np.ndarray:
    """Reject a mask that selects nothing or everything (nothing to blend or nothing kept)."""
    if not mask.any():
        raise SirenkitError(f"{name} selects no pixel of the {mask.shape[0]}x{mask.shape[1]} grid")
    if mask.all():
        raise SirenkitError(f"{name} covers the whole target: no target pixel left to keep")
    return mask


def load_mask(path: str | Path, file_shape: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Read a mask image and bring it to the fitted ``shape``.

    The mask must have the target file's size ``file_shape`` or the fitted ``shape``. Colour
    channels are averaged (alpha ignored); the result is resized with the target, then
    thresholded at 0.5 on a [0, 1] scale, so gray or anti-aliased masks are accepted.
    """
    img = (load_image(Path(path)) + 1.0) / 2.0
    hw = tuple(img.shape[:2])
    if hw not in (tuple(file_shape), tuple(shape)):
        raise SirenkitError(
            f"mask {path} is {hw[0]}x{hw[1]} pixels; expected the target's size "
            f"{file_shape[0]}x{file_shape[1]} or the fitted size {shape[0]}x{shape[1]}"
        )
    gray = (gray_image(img) if img.shape[-1] > 1 else img).astype(np.float32)
    return check_mask(resize(gray, shape)[..., 0] >= 0.5, f"mask {path}")


def aligned_source(source: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Centre-crop a [-1, 1] image to the aspect ratio of ``shape``, then resize to it."""
    h, w = source.shape[:2]
    ratio = shape[1] / shape[0]
    ch, cw = (h, min(w, round(h * ratio))) if w / h >= ratio else (min(h, round(w / ratio)), w)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = source[y0 : y0 + ch, x0 : x0 + cw]
    return resize((crop + 1.0) / 2.0, shape) * 2.0 - 1.0


def match_channels(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give two images the same channels: gray is repeated to RGB, alpha is dropped."""
    a, b = a[..., :3], b[..., :3]
    if a.shape[-1] != b.shape[-1]:
        a = np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a
        b = np.repeat(b, 3, axis=-1) if b.shape[-1] == 1 else b
    return a, b


def composite_gradient(
    target: np.ndarray, source: np.ndarray, mask: np.ndarray, mode: BlendMode
) -> np.ndarray:
    """The guidance field ``(H, W, C, 2)``: the target's gradient outside ``mask`` and the
    source's (``import``) or the stronger of the two per pixel and channel (``mixed``) inside."""
    gt = grid_gradient(target, 2)
    gs = grid_gradient(source, 2)
    if mode == "mixed":
        stronger = np.linalg.norm(gs, axis=-1) > np.linalg.norm(gt, axis=-1)
        gs = np.where(stronger[..., None], gs, gt)
    elif mode != "import":
        raise SirenkitError(f"--mode must be import or mixed, got {mode!r}")
    return np.where(mask[..., None, None], gs, gt).astype(np.float32)


def value_mask(mask: np.ndarray, region: ValueRegion) -> np.ndarray:
    """Pixels whose target values are fitted: all outside ``mask``, or the ring around it."""
    if region == "outside":
        return ~mask
    if region == "boundary":
        return ndimage.binary_dilation(mask) & ~mask
    raise SirenkitError(f"--value-region must be outside or boundary, got {region!r}")


class BlendTask(ProblemTask):
    """Fit one network to a composite gradient field and the target's values outside a mask."""

    name = "blend"
    renderer = "sirenkit.cli.render:render_image_run"

    def __init__(
        self,
        target: np.ndarray,
        source: np.ndarray,
        mask: np.ndarray,
        *,
        mode: BlendMode = BlendConfig.mode,
        value_region: ValueRegion = BlendConfig.value_region,
        value_weight: float = BlendConfig.value_weight,
        label: str = "blend",
    ) -> None:
        """Arguments:
        target, source: aligned ``(H, W, C)`` images in [-1, 1] with the same channels.
        mask: ``(H, W)`` booleans, True where the source's gradients are used.
        mode: 'import' or 'mixed' gradients.
        value_region: 'outside' or 'boundary' (see :func:`value_mask`).
        value_weight: weight of the value term.
        label: name for run folders.
        """
        if target.shape != source.shape or target.ndim != 3:
            raise SirenkitError(
                f"source {source.shape} and target {target.shape} must be aligned (H, W, C)"
            )
        mask = np.asarray(mask)
        if mask.shape != target.shape[:2]:
            raise SirenkitError(
                f"mask has shape {mask.shape}; expected the target's "
                f"{target.shape[0]}x{target.shape[1]}"
            )
        if mask.dtype != bool:
            if not np.isin(mask, (0, 1)).all():
                raise SirenkitError(
                    f"mask must be boolean or 0/1, got values in [{mask.min()}, {mask.max()}]; "
                    "threshold it first"
                )
            mask = mask.astype(bool)
        if value_weight <= 0:
            raise SirenkitError(f"--value-weight must be positive, got {value_weight}")
        self.target = np.asarray(target, dtype=np.float32)
        self.source = np.asarray(source, dtype=np.float32)
        self.mask = check_mask(mask, "mask")
        self.mode = mode
        self.value_weight = float(value_weight)
        self.guidance = composite_gradient(self.target, self.source, self.mask, mode)
        self.valued = value_mask(self.mask, value_region)
        self.poisson_reference = seamless_clone(
            self.target, self.source, self.mask, mixed=mode == "mixed"
        ).astype(np.float32)
        n, c = self.mask.size, self.target.shape[-1]
        constraint = guided_values(
            grid(self.mask.shape),
            self.guidance.reshape(n, c, 2),
            self.target.reshape(n, c),
            self.valued.reshape(n),
            value_weight=self.value_weight,
            points=None,
        )
        problem = Problem([constraint], NAMES, outputs=c, name="blend")
        super().__init__(problem, w0=30.0, label=label)
        self.headline = "psnr_outside"

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.target.shape[-1], tuple(self.target.shape[:2]), w0=30.0)

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Batch:
        """``batch_size`` random pixels (None: all of them)."""
        self.problem.constraints[0].points = batch_size
        return self.problem.sample(generator).to(self.device)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        (constraint,) = self.problem.constraints
        r = self.problem.residual(constraint, model, batch.points[0], batch.data[0])
        sq = r.square() / r.numel()
        k = 2 * self.target.shape[-1]
        gradient, values = sq[:, :k].sum(), sq[:, k:].sum()
        v = (values.detach() / self.value_weight).clamp_min(1e-30)
        return gradient + values, {
            "grad_rel_err": gradient.detach().sqrt(),
            "psnr_outside": 10 * torch.log10(4.0 / v),
        }

    def predict(self, model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
        """The network's blend ``(H, W, C)`` and its gradient ``(H, W, C, 2)``."""
        return network_fields(model, self.target.shape[:2])

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred, grad = self.predict(model)
        out = ~self.mask
        metrics = {
            "psnr_outside": psnr(pred[out], self.target[out]),
            "psnr_vs_poisson": psnr(pred, self.poisson_reference),
            "psnr_vs_poisson_inside": psnr(pred[self.mask], self.poisson_reference[self.mask]),
        }
        ref_grad = grid_gradient(self.poisson_reference, 2)
        fm = field_metrics(grad[self.mask], ref_grad[self.mask], "grad_vs_poisson_inside")
        metrics["grad_vs_poisson_inside_rel_err"] = fm["grad_vs_poisson_inside_rel_err"]
        return metrics

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        pred, _ = self.predict(model)
        m3 = self.mask[..., None]
        paste = np.where(m3, self.source, self.target)
        save_image(run_dir / "target.png", self.target)
        save_image(run_dir / "source.png", self.source)
        save_image(run_dir / "mask.png", np.where(m3, 1.0, -1.0))
        save_image(run_dir / "naive_paste.png", paste)
        save_image(run_dir / "blend.png", pred)
        save_image(run_dir / "poisson_reference.png", self.poisson_reference)
        ref_psnr = psnr(pred, self.poisson_reference)
        save_panels(
            run_dir / "blend_figure.png",
            [
                Panel("target", displayable(self.target), "gray", 0, 1),
                Panel("source", displayable(self.source), "gray", 0, 1),
                Panel("mask", self.mask.astype(float), "gray", 0, 1),
                Panel("naive paste", displayable(paste), "gray", 0, 1),
                Panel(f"network blend ({self.mode})", displayable(pred), "gray", 0, 1),
                Panel(
                    f"discrete Poisson (network: {ref_psnr:.1f} dB)",
                    displayable(self.poisson_reference),
                    "gray",
                    0,
                    1,
                ),
            ],
            cols=3,
        )

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.target.shape[:2]),
            "channels": int(self.target.shape[-1]),
            "label": self._label,
            "mode": self.mode,
        }


def blend(cfg: BlendConfig):
    """CLI entry: ``sirenkit blend``."""
    from ..training.run import run

    return run(cfg)
