"""Configuration shared by every training command (fields become CLI flags)."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..nets.config import ModelConfig

if TYPE_CHECKING:
    from .task import Task


@dataclass
class TrainConfig:
    """How to optimise."""

    steps: int = 500
    """Optimisation steps."""
    lr: float = 1e-3
    """Peak learning rate of Adam."""
    first_lr_w0: float | None = None
    """The first layer's rate, as the w0 at which it is lr: the first sine layer (weights and
    bias) learns at lr x first_lr_w0 / w0, w0 the network's first-layer frequency. Adam turns
    that layer's phases by about w0 x its rate per step, so this keeps one recipe's phase
    steps at any w0 (an image's 30, a whole audio clip's 3000, a short crop's 40). None: lr
    for every layer, as for networks without a first-layer w0 (ReLU, Fourier features...).
    Not applied to a learned initialisation's per-weight rates (--init)."""
    average: float | None = None
    """Decay per step of an exponential moving average of the weights that evaluations,
    checkpoints and the final network take (the optimiser keeps stepping the trained weights):
    on small random batches it cancels much of each step's noise, ahead of the trained weights
    at the same rate (docs/speed.md, video). In [0, 1); about 1 / (1 - decay) steps averaged.
    None: the trained weights. Not with --then-lbfgs (L-BFGS steps are not noisy)."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam's decay rates of its running gradient mean and squared gradient (0.99 for the
    second measured slower on images, docs/speed.md)."""
    optimizer: Literal["adam", "muon"] = "adam"
    """adam: Adam on every parameter; muon: Muon (momentum orthogonalised by Newton-Schulz
    iterations) on the hidden layers' weight matrices at the same learning rate, Adam on the
    rest (first and last layers, biases): fewer steps to a given PSNR on images when the
    learning rate decays from the start (docs/speed.md)."""
    schedule: Literal["constant", "cosine", "exponential"] = "cosine"
    """Learning-rate schedule after warm-up: constant, cosine (to lr * final_lr_factor) or
    exponential (geometric decay to lr * final_lr_factor)."""
    warmup: int = 0
    """Linear warm-up steps."""
    hold: float = 0.0
    """Share of the steps after warm-up kept at the peak learning rate before the decay starts
    (0: decay from the start)."""
    final_lr_factor: float = 0.01
    """The schedule's last learning rate, as a fraction of lr."""
    then_lbfgs: int = 0
    """L-BFGS iterations after the Adam steps (strong-Wolfe line search, on one fixed batch):
    the usual finish of physics-informed training; 0: Adam only."""
    quasi_newton: Literal["lbfgs", "bfgs"] = "lbfgs"
    """The optimiser of the then_lbfgs phase: lbfgs (torch's L-BFGS, the last 100 curvature
    pairs) or bfgs (self-scaled BFGS, the whole inverse Hessian: n^2 numbers for n weights, so
    networks of a few thousand weights; on Burgers it goes below L-BFGS's floor in a quarter
    of the iterations, docs/pde.md). Same line search, batch and float64 switch."""
    lbfgs_float64_after: int | None = None
    """L-BFGS iterations in the network's own dtype before the phase goes on in float64 (the
    weights and the task's unknowns cast, a fresh L-BFGS memory), or earlier, at the first
    iteration that leaves the weights unchanged: float32 L-BFGS stalls where the loss changes
    it needs are below float32's rounding (docs/pde.md). None: the whole phase in the network's
    dtype. Tasks whose loss follows the network's dtype only (problems: sirenkit solve)."""
    batch_size: int | None = None
    """Points per step (the first steps' when the batch grows); None means the task's full
    batch (every pixel of an image)."""
    batch_growth_every: int = 0
    """Steps between doublings of batch_size, which ends in the full batch after
    batch_doublings doublings; 0 keeps batch_size throughout (see docs/speed.md)."""
    batch_doublings: int = 3
    """How many times a growing batch doubles before the full batch takes over."""
    batch_ramp: int = 0
    """Halvings of batch_size at the start of a growing batch: its first batch_growth_every
    steps run in batch_ramp + 1 equal parts, from batch_size / 2**batch_ramp doubling to
    batch_size. Muon's early fit sits on a floor its learning rate sets, not on the batch's
    noise, so those steps need fewer points (docs/speed.md); 0: batch_size from step 0."""
    seed: int = 0
    """Seed of the network's init and of every random batch, for reproducible runs."""
    log_every: int = 10
    """Steps between metric records (metrics.jsonl) and progress-bar updates."""
    eval_every: int = 100
    """Steps between full evaluations (e.g. PSNR and SSIM over the whole image); 0: end only."""
    checkpoint_every: int = 100
    """Steps between checkpoints (written atomically); 0: end (and interrupt) only."""
    device: str = "auto"
    """Torch device: auto (CUDA when available), cpu, cuda, cuda:1, mps."""
    threads: int | None = None
    """CPU threads of torch's operations during the run (None: torch's default, one per
    core). On a machine busy with other jobs, threads that wait for each other at every
    operation can make small problems several times slower: --threads 1 there."""
    precision: Literal["float32", "bfloat16", "bfloat16-backward"] = "float32"
    """Arithmetic of a training step: float32; bfloat16 autocast (matrix products in bfloat16,
    parameters and optimiser in float32; input derivatives stay float32), faster where the
    hardware has bfloat16 units, but its 8-bit mantissa caps the fit (on cameraman near 37.5
    dB where float32 passes 42 dB); or bfloat16-backward: a float32 forward pass (no cap) whose
    sine layers take the matrix products of the backward pass in bfloat16 (only the gradient
    is rounded, by ~0.4%); see docs/speed.md."""
    bfloat16_steps: int = 0
    """Steps at the start trained under bfloat16 autocast before --precision takes over: the
    coarse early fit does not need float32 and its steps cost about half (docs/speed.md).
    Both bfloat16 settings apply only where bfloat16 products are measured faster than float32
    ones; elsewhere the run trains in float32 and says so."""
    progress: bool = True
    """Show a progress bar."""
    log: Literal["none", "tensorboard"] = "none"
    """Also log to TensorBoard (RUN/tb/: scalars as they come, the run's pictures and sounds at
    the end; needs the tensorboard extra)."""


@dataclass
class RunOptions:
    """Fields every training command has: the network, the optimiser and the run folder."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out: Path = Path("runs")
    """Folder that holds run folders; each run gets a new one, never reusing an old one."""
    name: str | None = None
    """Run folder name (default: task and signal name); a suffix is added if it exists."""
    resume: Path | None = None
    """Continue the interrupted run in this folder with its saved configuration."""
    init: Path | None = None
    """Start from the weights of this run: a learned initialisation (train init) or a fit of
    the same task and network. From a train init run the fit takes its learned per-weight step
    sizes instead of Adam, scaled by the schedule (--lr only sets the peak they are relative
    to; --schedule constant replays the meta-trained steps)."""

    def setup(self) -> Task:
        """Build the task this config describes (a config is the factory of its task)."""
        raise NotImplementedError(f"{type(self).__name__} does not build a task")

    def schedule(self, task: Task) -> TrainConfig:
        """The training settings the run of ``task`` follows: :attr:`train` as given, unless
        a command adapts its step counts to the task's data (``fit image`` scales them with
        the image's pixels). The run folder keeps the config as given, so a resume derives
        the same schedule again."""
        return self.train


def to_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass config as a JSON-able dict (paths become strings)."""

    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple | list):
            return [conv(x) for x in v]
        return v

    return conv(cfg)


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) dataclass config from :func:`to_dict`'s output.

    A field the saved config lacks was added after it was written: it takes the value the
    class's ``FORMER_DEFAULTS`` names (what the older code did, so a resumed run goes on as
    it started), else its default."""
    hints = typing.get_type_hints(cls)
    former = getattr(cls, "FORMER_DEFAULTS", {})
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
        elif f.name in former:
            kwargs[f.name] = former[f.name]
    return cls(**kwargs)


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _convert(typing.get_args(tp)[0], value)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(args[0], value) if len(args) == 1 else value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value)
    if tp is Path:
        return Path(value)
    if origin is tuple:
        return tuple(value)
    return value
