"""One declaration per option: a task's constructor defaults are its config's."""

import dataclasses
import importlib
import inspect

import pytest

TASKS = {
    "image": ("FitImageConfig", "ImageTask"),
    "audio": ("FitAudioConfig", "AudioTask"),
    "video": ("FitVideoConfig", "VideoTask"),
    "poisson": ("FitPoissonConfig", "PoissonTask"),
    "blend": ("BlendConfig", "BlendTask"),
    "sdf": ("FitSdfConfig", "SdfTask"),
    "helmholtz": ("SolveHelmholtzConfig", "HelmholtzTask"),
    "wave": ("SolveWaveConfig", "WaveTask"),
    "fwi": ("InvertFWIConfig", "FWITask"),
    "prior": ("TrainPriorConfig", "PriorTask"),
}


def _flat_defaults(cfg) -> dict:
    out = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out.update(_flat_defaults(value))
        else:
            out[f.name] = value
    return out


DRIFTING = {
    "image": "ImageTask(min_gain=None) against FitImageConfig.min_gain = 0.02",
}
"""Drifts found in files this test's author does not own; strict, so each flips to a failure
(to be removed from here) the day its owner makes the constructor refer to the config."""


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(m, marks=pytest.mark.xfail(reason=DRIFTING[m], strict=True))
        if m in DRIFTING
        else m
        for m in sorted(TASKS)
    ],
)
def test_constructor_defaults_are_the_configs(module):
    mod = importlib.import_module(f"sirenkit.tasks.{module}")
    config, task = (getattr(mod, name) for name in TASKS[module])
    fields = _flat_defaults(config())
    for name, p in inspect.signature(task.__init__).parameters.items():
        if name in fields and p.default is not inspect.Parameter.empty:
            assert p.default == fields[name], f"{task.__name__}({name}=) drifts from its config"
