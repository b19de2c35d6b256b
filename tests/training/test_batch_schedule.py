from dataclasses import replace

from sirenkit.tasks.image import IMAGE_BATCH, FitImageConfig
from sirenkit.training.config import TrainConfig
from sirenkit.training.schedule import batch_size_at


def test_fixed_and_full_batches_do_not_change():
    assert batch_size_at(TrainConfig(batch_size=None, batch_growth_every=10), 5) is None
    assert [batch_size_at(TrainConfig(batch_size=64), s) for s in (0, 99)] == [64, 64]


def test_growing_batch_doubles_then_takes_the_full_batch():
    cfg = TrainConfig(batch_size=100, batch_growth_every=3, batch_doublings=2)
    sizes = [batch_size_at(cfg, s) for s in range(8)]
    assert sizes == [100, 100, 100, 200, 200, 200, None, None]


def test_image_default_ends_in_the_full_batch():
    cfg = FitImageConfig().train
    assert batch_size_at(cfg, cfg.batch_growth_every - 1) == IMAGE_BATCH
    assert batch_size_at(cfg, cfg.batch_growth_every * cfg.batch_doublings) is None


def test_a_ramp_starts_halved_and_doubles_in_equal_parts_to_the_batch():
    cfg = TrainConfig(batch_size=400, batch_growth_every=6, batch_doublings=2, batch_ramp=2)
    sizes = [batch_size_at(cfg, s) for s in range(20)]
    assert sizes[:6] == [100, 100, 200, 200, 400, 400]
    # after the first phase the batches are those of the schedule without a ramp
    flat = replace(cfg, batch_ramp=0)
    assert sizes[6:] == [batch_size_at(flat, s) for s in range(6, 20)] == [800] * 6 + [None] * 8
