"""A network that a Python file builds: how a problem file's own ``field`` (any ``nn.Module``,
not one of ``sirenkit models``) is checkpointed. The checkpoint names the file; loading it runs
the file again for the module and puts the saved weights in."""

from __future__ import annotations

import runpy
from pathlib import Path

from torch import nn

from ..errors import SirenkitError
from .config import ModelConfig
from .registry import TaskShape, register_model


def network_from_file(path: str, attr: str = "field") -> nn.Module:
    """The ``nn.Module`` that the Python file ``path`` defines as ``attr``."""
    p = Path(path)
    if not p.is_file():
        raise SirenkitError(f"this run's network is built by {p}, which is no longer there")
    ns = runpy.run_path(str(p), run_name="sirenkit_problem")
    net = ns.get(attr)
    if not isinstance(net, nn.Module):
        raise SirenkitError(f"{p} no longer defines `{attr}` as an nn.Module")
    return net


def _no_config(cfg: ModelConfig, shape: TaskShape) -> dict:
    raise SirenkitError("--model file: a file's network is built by the file, not by flags")


register_model(
    "file", _no_config, "the network a Python file builds (rebuilt by running it)", family="wrapper"
)(network_from_file)


def network_built_in_python(type: str) -> nn.Module:
    """What a checkpoint of a network handed to ``sk.solve`` as a module of the caller's own
    names: nothing can rebuild it but the caller, so loading says how."""
    raise SirenkitError(
        f"this run's network (a {type}) was built in Python by the caller: build it again and "
        "load the weights, net.load_state_dict(torch.load(path)['state_dict'])"
    )


register_model("python", _no_config, "a network built in Python (weights only)", family="wrapper")(
    network_built_in_python
)
