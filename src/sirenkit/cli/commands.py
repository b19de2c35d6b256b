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
        ("render",),
        "sirenkit.cli.render:RenderConfig",
        "sirenkit.cli.render:render_command",
        "render a trained image model at any size",
    ),
    Command(
        ("models",),
        "sirenkit.cli.info:ModelsConfig",
        "sirenkit.cli.info:models_command",
        "list the networks available by name",
    ),
)
