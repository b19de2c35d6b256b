from sirenkit.tasks.image import IMAGE_START_BATCH, FitImageConfig
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
    assert batch_size_at(cfg, 0) == IMAGE_START_BATCH
    assert batch_size_at(cfg, cfg.batch_growth_every * cfg.batch_doublings) is None
