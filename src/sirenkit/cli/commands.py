"""The command table: each command is a config dataclass and a function taking it.

Entries are import paths so that ``sirenkit --help`` stays fast and a command's heavy
imports happen only when it runs. A new command is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    """How the user types it: ('fit', 'image')."""
    config: str
    """'module:ConfigClass'."""
    entry: str
    """'module:function' called with the parsed config."""
    summary: str


COMMANDS: tuple[Command, ...] = (
    Command(
        ("fit", "image"),
        "sirenkit.tasks.image:FitImageConfig",
        "sirenkit.tasks.image:fit_image",
        "fit a network to an image",
    ),
    Command(
        ("fit", "images"),
        "sirenkit.tasks.images:FitImagesConfig",
        "sirenkit.tasks.images:fit_images",
        "fit one network to each image of a folder or dataset, all trained together",
    ),
    Command(
        ("fit", "audio"),
        "sirenkit.tasks.audio:FitAudioConfig",
        "sirenkit.tasks.audio:fit_audio",
        "fit a network to an audio clip (WAV, FLAC, OGG)",
    ),
    Command(
        ("fit", "video"),
        "sirenkit.tasks.video:FitVideoConfig",
        "sirenkit.tasks.video:fit_video",
        "fit a network to a video (MP4, AVI, MOV, GIF, .npy)",
    ),
    Command(
        ("fit", "poisson"),
        "sirenkit.tasks.poisson:FitPoissonConfig",
        "sirenkit.tasks.poisson:fit_poisson",
        "reconstruct an image from its gradient or Laplacian alone",
    ),
    Command(
        ("blend",),
        "sirenkit.tasks.blend:BlendConfig",
        "sirenkit.tasks.blend:blend",
        "Poisson image editing: blend a source region into a target",
    ),
    Command(
        ("fit", "sdf"),
        "sirenkit.tasks.sdf:FitSdfConfig",
        "sirenkit.tasks.sdf:fit_sdf",
        "fit a signed distance function to an oriented point cloud or mesh",
    ),
    Command(
        ("mesh",),
        "sirenkit.cli.mesh:MeshConfig",
        "sirenkit.cli.mesh:mesh_command",
        "mesh a trained SDF",
    ),
    Command(
        ("solve",),
        "sirenkit.problems.solve:SolveConfig",
        "sirenkit.problems.solve:solve_command",
        "solve a problem posed as constraints: FILE.py, or a built-in example by name",
    ),
    Command(
        ("solve", "helmholtz"),
        "sirenkit.tasks.helmholtz:SolveHelmholtzConfig",
        "sirenkit.tasks.helmholtz:solve_helmholtz_command",
        "solve the Helmholtz equation (point source, PML) from its residual",
    ),
    Command(
        ("solve", "wave"),
        "sirenkit.tasks.wave:SolveWaveConfig",
        "sirenkit.tasks.wave:solve_wave_command",
        "solve the 2-D wave equation from an initial pulse",
    ),
    Command(
        ("invert", "fwi"),
        "sirenkit.tasks.fwi:InvertFWIConfig",
        "sirenkit.tasks.fwi:invert_fwi_command",
        "full-waveform inversion: wave speed from receiver data",
    ),
    Command(
        ("train", "prior"),
        "sirenkit.tasks.prior:TrainPriorConfig",
        "sirenkit.tasks.prior:train_prior",
        "learn a prior over images (hypernetwork over SIRENs, or the CNP baseline)",
    ),
    Command(
        ("train", "init"),
        "sirenkit.tasks.init:TrainInitConfig",
        "sirenkit.tasks.init:train_init",
        "meta-learn a SIREN init and its step sizes for a class of images; use with --init",
    ),
    Command(
        ("complete",),
        "sirenkit.cli.priors:CompleteConfig",
        "sirenkit.cli.priors:complete_command",
        "complete an image from a few pixels with a trained prior",
    ),
    Command(
        ("evaluate", "prior"),
        "sirenkit.cli.priors:EvaluatePriorConfig",
        "sirenkit.cli.priors:evaluate_prior_command",
        "print the test MSE table of trained priors",
    ),
    Command(
        ("compare", "image"),
        "sirenkit.compare.config:CompareImageConfig",
        "sirenkit.compare.run:compare_command",
        "train several networks on one image and compare them",
    ),
    Command(
        ("compare", "audio"),
        "sirenkit.compare.config:CompareAudioConfig",
        "sirenkit.compare.run:compare_command",
        "train several networks on one audio clip and compare them",
    ),
    Command(
        ("render",),
        "sirenkit.cli.render:RenderConfig",
        "sirenkit.cli.render:render_command",
        "render a trained image model at any size, or audio at any rate",
    ),
    Command(
        ("view",),
        "sirenkit.viewer.server:ViewConfig",
        "sirenkit.viewer.server:view_command",
        "browse runs in a local web viewer (re-rendered zoom, players, meshes, curves)",
    ),
    Command(
        ("train", "functa"),
        "sirenkit.functa.task:TrainFunctaConfig",
        "sirenkit.functa.task:train_functa",
        "meta-learn a SIREN with per-image modulations (functa) over a dataset",
    ),
    Command(
        ("encode",),
        "sirenkit.functa.cli:EncodeConfig",
        "sirenkit.functa.cli:encode_command",
        "turn every image of a dataset into its functa modulation (one .npz)",
    ),
    Command(
        ("decode",),
        "sirenkit.functa.cli:DecodeConfig",
        "sirenkit.functa.cli:decode_command",
        "render the modulations of a .npz back to images (PNGs and a contact sheet)",
    ),
    Command(
        ("compress",),
        "sirenkit.compress.cli:CompressConfig",
        "sirenkit.compress.cli:compress_command",
        "store an image as a quantised, entropy-coded SIREN (.sirenz) within a bit budget",
    ),
    Command(
        ("decompress",),
        "sirenkit.compress.cli:DecompressConfig",
        "sirenkit.compress.cli:decompress_command",
        "render a .sirenz file back to an image, at any resolution",
    ),
    Command(
        ("models",),
        "sirenkit.cli.info:ModelsConfig",
        "sirenkit.cli.info:models_command",
        "list the networks available by name",
    ),
)
