"""``sirenkit mesh``: re-extract the surface of a trained SDF run at any resolution."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from ..errors import SirenkitError, require_positive


@dataclass
class MeshConfig:
    """Mesh the zero level set of a trained SDF (run folder or checkpoint) at any resolution."""

    checkpoint: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN|CKPT")]
    """Run folder or checkpoint.pt of an sdf run."""
    resolution: int = 512
    """Grid points per axis (memory stays bounded: the grid is meshed block by block)."""
    out: Path | None = None
    """Output mesh, .ply, .obj, .stl or .off (default: mesh_N.ply in the run folder; an
    existing file is never overwritten: a -2, -3... suffix is added)."""
    lipschitz: float | None = 2.0
    """Skip blocks whose centre value exceeds this times their half diagonal (None: evaluate
    every grid point, slower)."""
    block: int = 8
    """Cells per block side."""
    chunk: int = 65536
    """Points per network call; lower it to bound memory."""
    device: str = "auto"
    """Torch device (auto: CUDA when available)."""


def mesh_command(cfg: MeshConfig) -> Path:
    import time

    from ..geometry.io import export_mesh
    from ..geometry.meshing import extract_mesh
    from ..signals.pointcloud import Normalisation
    from ..training.checkpoint import model_from_checkpoint, read_checkpoint, resolve_checkpoint
    from ..training.loop import resolve_device
    from ..training.rundir import unique_path

    path = resolve_checkpoint(cfg.checkpoint)
    ckpt = read_checkpoint(path)
    if ckpt.get("task") != "sdf":
        raise SirenkitError(f"{path} is a {ckpt.get('task')!r} run; mesh needs an sdf run")
    if cfg.resolution < 2:
        raise SirenkitError(f"--resolution must be at least 2, got {cfg.resolution}")
    require_positive("--chunk", cfg.chunk)
    require_positive("--block", cfg.block)
    require_positive("--lipschitz", cfg.lipschitz, allow_none=True)
    norm = Normalisation.from_dict(ckpt["task_meta"]["normalisation"])
    model = model_from_checkpoint(ckpt, path).to(resolve_device(cfg.device)).eval()
    t0 = time.perf_counter()
    mesh = extract_mesh(
        model, cfg.resolution, block=cfg.block, lipschitz=cfg.lipschitz, chunk=cfg.chunk
    )
    if len(mesh.faces) == 0:
        raise SirenkitError(f"{path}: the network's zero level set is empty at this resolution")
    out = unique_path(Path(cfg.out or path.parent / f"mesh_{cfg.resolution}.ply"))
    export_mesh(out, norm.to_input(mesh.vertices), mesh.faces)
    print(
        f"{out}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces, "
        f"{mesh.stats.evaluated_points} points evaluated, {time.perf_counter() - t0:.1f} s"
    )
    return out
