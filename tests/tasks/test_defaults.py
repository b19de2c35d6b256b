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


@pytest.mark.parametrize("module", sorted(TASKS))
def test_constructor_defaults_are_the_configs(module):
    mod = importlib.import_module(f"sirenkit.tasks.{module}")
    config, task = (getattr(mod, name) for name in TASKS[module])
    fields = _flat_defaults(config())
    for name, p in inspect.signature(task.__init__).parameters.items():
        if name in fields and p.default is not inspect.Parameter.empty:
            assert p.default == fields[name], f"{task.__name__}({name}=) drifts from its config"


def test_former_defaults_name_fields_and_differ_from_todays():
    """FORMER_DEFAULTS (what a run saved before a field existed ran with) name real fields,
    each with a value other than today's default (else the entry says nothing)."""
    from sirenkit.tasks.audio import FitAudioConfig
    from sirenkit.tasks.fwi import InvertFWIConfig
    from sirenkit.tasks.helmholtz import SolveHelmholtzConfig
    from sirenkit.tasks.image import FitImageConfig
    from sirenkit.tasks.prior import TrainPriorConfig
    from sirenkit.tasks.sdf import SdfLoss
    from sirenkit.tasks.video import FitVideoConfig

    for cls in (
        FitImageConfig,
        FitAudioConfig,
        FitVideoConfig,
        SolveHelmholtzConfig,
        InvertFWIConfig,
        TrainPriorConfig,
        SdfLoss,
    ):
        today = cls()
        names = {f.name for f in dataclasses.fields(cls)}
        for name, value in cls.FORMER_DEFAULTS.items():
            assert name in names, (cls.__name__, name)
            assert getattr(today, name) != value, (cls.__name__, name)
