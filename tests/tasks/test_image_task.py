import json
from dataclasses import replace

import pytest
import torch

from sirenkit import Siren
from sirenkit.errors import SirenkitError
from sirenkit.tasks.image import MIN_SCALED_BATCH, FitImageConfig, ImageTask
from sirenkit.training import Interrupted, run
from tests.tasks.common import (
    assert_resume_matches_full_run,
    assert_stripped_resume_matches_full_run,
    strip_saved_fields,
    tiny_train,
)


def test_batches_are_seeded_and_full_batch_is_everything(tiny_image):
    task = ImageTask(tiny_image, "tiny")
    coords, pixels, weights, idx = task.batch(0, torch.Generator().manual_seed(0), None)
    assert coords.shape == (24 * 20, 2) and pixels.shape == (24 * 20, 3)
    assert weights is None and idx is None
    a = task.batch(0, torch.Generator().manual_seed(1), 50)
    b = task.batch(0, torch.Generator().manual_seed(1), 50)
    assert torch.equal(a[0], b[0]) and a[0].shape == (50, 2)


def test_loss_psnr_matches_evaluation_on_full_batch(tiny_image):
    torch.manual_seed(0)
    task = ImageTask(tiny_image)
    net = Siren(2, 16, 1, 3)
    _loss, scalars = task.loss(net, task.batch(0, torch.Generator(), None))
    metrics = task.evaluate(net)
    # evaluation clips predictions; at init values are small, so the two agree closely
    assert abs(float(scalars["psnr"]) - metrics["psnr"]) < 0.5
    assert set(metrics) == {"psnr", "ssim"}


def test_target_psnr_stops_at_the_first_full_batch_step_that_reaches_it(tmp_path):

    def cfg(target=None):
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", target_psnr=target)
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(steps=40, log_every=1, eval_every=0, checkpoint_every=0)
        return c

    full = run(cfg())
    lines = (full.run_dir / "metrics.jsonl").read_text().splitlines()
    psnrs = [json.loads(line)["psnr"] for line in lines[:40]]
    target = psnrs[24] - 1e-3  # measured by step 25 on the weights before it
    first = next(i for i, p in enumerate(psnrs) if p >= target) + 1
    stopped = run(cfg(target))
    summary = json.loads((stopped.run_dir / "summary.json").read_text())
    assert summary["steps"] == first < 40 and "target" in summary["stopped"]


class _Shifted(torch.nn.Module):
    """The task's own pixels plus ``shift``: a network of a known error (a PSNR of
    10 log10(4 / shift^2) dB), counting its inferences."""

    def __init__(self, task: ImageTask, shift: float) -> None:
        super().__init__()
        self.task, self.shift, self.calls = task, shift, 0

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        assert torch.equal(coords, self.task.coords)
        return self.task.pixels + self.shift


def test_a_target_is_judged_on_the_fitted_network_once_the_estimate_comes_near(tiny_image):
    """The training estimate lags the network the run ends with (by up to 3.5 dB on the moon
    at 256x256): the fitted network is checked from 3 dB below the target on, so the run stops
    when that network reaches the target, not when the estimate does."""

    def estimate(task: ImageTask, db: float) -> None:  # one full batch: one measurement
        task.loss(_Shifted(task, (4 / 10 ** (db / 10)) ** 0.5), task.batch(0, None, None))

    task = ImageTask(tiny_image, target_psnr=30.0)
    fitted = _Shifted(task, 0.0)  # exact
    estimate(task, 26.5)
    assert task.should_stop(fitted) is None and fitted.calls == 0  # too far to look
    estimate(task, 28.0)
    assert task.should_stop(fitted) == "reached the target 30" and fitted.calls == 1
    behind = ImageTask(tiny_image, target_psnr=30.0)
    estimate(behind, 30.5)  # the estimate reached it, the fitted network has not
    assert behind.should_stop(_Shifted(behind, 0.1)) is None  # 26 dB


def test_a_target_stop_is_confirmed_on_the_averaged_network_the_run_ends_with(tmp_path):
    """With --average the fitted network lags the trained weights: a target the training
    estimate (of the trained weights) reaches must also be reached by the network the run
    ends with, or training goes on (it once stopped 0.3 dB short of --target-psnr 40)."""

    def cfg(target=None):
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", target_psnr=target)
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(steps=60, log_every=1, eval_every=1, checkpoint_every=0)
        c.train.average = 0.95  # a long average: about 20 steps behind
        return c

    full = run(cfg())
    lines = [json.loads(line) for line in (full.run_dir / "metrics.jsonl").read_text().splitlines()]
    estimate = [r["psnr"] for r in lines if not r.get("eval")][:60]
    fitted = [r["psnr"] for r in lines if r.get("eval")][:59]
    target = estimate[29]
    assert fitted[29] < target - 0.2  # the averaged network is behind at that step
    stopped = run(cfg(target))
    summary = json.loads((stopped.run_dir / "summary.json").read_text())
    assert "target" in summary["stopped"] and summary["steps"] > 30
    assert summary["psnr"] >= target


def test_ctrl_c_inside_a_step_resumes_to_the_same_end(tmp_path):
    """The sampler has already seen the interrupted step's errors: the checkpoint must keep
    its state from before that step, as it keeps the generator's."""

    def cfg():
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs")
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(batch_size=64)
        return c

    full = run(cfg())
    task = cfg().setup()
    loss, calls = task.loss, []

    def interrupted_loss(model, batch):
        out = loss(model, batch)
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return out

    task.loss = interrupted_loss
    with pytest.raises(Interrupted) as info:
        run(cfg(), task)
    again = cfg()
    again.resume = info.value.run_dir
    resumed = run(again)
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_task_reused_for_a_second_run_starts_fresh(tmp_path):
    """`sirenkit compare` trains several networks on one task object: the sampler and the
    stopping rule must not carry one run's state into the next."""

    def cfg():
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", min_gain=0.5)
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(batch_size=64, steps=40)
        return c

    fresh = run(cfg())
    task = cfg().setup()
    run(cfg(), task)
    second = run(cfg(), task)
    assert second.final == fresh.final
    for p, q in zip(fresh.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_flat_training_psnr_lowers_the_learning_rate_the_loop_uses(tmp_path):
    """--plateau-gain: the rate logged (and given to the optimiser) is the schedule's times
    the task's factor, which halves when the training PSNR gains less than asked; a resumed
    run keeps the factor and the rate it holds."""

    def cfg(gain):
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", min_gain=None)
        c.plateau_gain, c.plateau_window = gain, 4.0
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(steps=20, log_every=1, schedule="constant", bfloat16_steps=11)
        return c

    def rates(result):
        lines = (result.run_dir / "metrics.jsonl").read_text().splitlines()
        return [r["lr"] for r in map(json.loads, lines) if "lr" in r]

    never = rates(run(cfg(None)))
    cut = rates(run(cfg(1e9)))  # no fit gains a billion dB per image: a cut every window
    assert never == [1e-3] * 20
    # full batches: one measurement per step, a cut once a window (4 images) has passed;
    # the rule acts in the bfloat16 phase only (11 steps), then holds its last rate until
    # the schedule's falls below it (a constant one never does)
    assert cut[:5] == [1e-3] * 5 and cut[5:9] == [5e-4] * 4 and cut[9:11] == [2.5e-4] * 2
    assert cut[11:] == [2.5e-4] * 9
    assert_resume_matches_full_run(lambda: cfg(1e9))


def test_the_default_cuts_the_rate_in_its_bfloat16_phase_and_compare_does_not():
    from sirenkit.compare.config import CompareImageConfig

    cfg = FitImageConfig(source="camera", size=32)  # 1024 pixels: every batch is all of them
    plateau = cfg.setup().quality.plateau
    assert plateau is not None and plateau.min_gain == cfg.plateau_gain is not None
    assert cfg.train.bfloat16_steps > 0 and plateau.until == pytest.approx(cfg.train.bfloat16_steps)
    assert CompareImageConfig(source="camera", size=32).setup().quality.plateau is None


def test_fit_image_keeps_an_average_of_its_weights_by_default_and_compare_does_not(tmp_path):
    """fit image's network is the running average of its weights (--average): its checkpoint
    carries the trained weights behind it; compare image fits every network without one."""
    import dataclasses

    from sirenkit.compare.config import CompareImageConfig
    from sirenkit.training.checkpoint import read_checkpoint

    for average in ("default", None):
        cfg = FitImageConfig(source="camera", size=16, out=tmp_path / "runs")
        cfg.model.hidden, cfg.model.layers = 16, 3
        changes = {} if average == "default" else {"average": None}
        cfg.train = dataclasses.replace(cfg.train, steps=3, eval_every=0, progress=False, **changes)
        ckpt = read_checkpoint(run(cfg).run_dir)
        assert ("average" in ckpt) == (average == "default")
    assert CompareImageConfig(source="camera").train.average is None


def test_step_counts_scale_with_the_pixels_and_a_resume_derives_the_same_schedule(tmp_path):
    """16x16 = 256 pixels with counts given for 64: four times every phase, the bfloat16
    phase's end included (the plateau rule's), 4 ** 1.5 = 8 times the steps, and a resumed run
    follows the same schedule."""

    def cfg(**kw):
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", schedule_pixels=64)
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(steps=3, bfloat16_steps=1, batch_size=32, batch_growth_every=1, **kw)
        return c

    c = cfg()
    task = c.setup()
    s = c.schedule(task)
    assert (s.steps, s.bfloat16_steps, s.batch_growth_every) == (24, 4, 4)
    assert c.train.steps == 3  # the config keeps the counts as given (so does config.json)
    assert task.quality.plateau.until == pytest.approx(4 * 32 / 256)  # 4 steps of 32 pixels
    linear = cfg()
    linear.steps_power = 1.0
    assert linear.schedule(task).steps == 12
    done = run(cfg())
    assert json.loads((done.run_dir / "summary.json").read_text())["steps"] == 24
    assert_resume_matches_full_run(cfg)

    off = FitImageConfig(source="camera", size=16, schedule_pixels=None)
    assert off.schedule(off.setup()) is off.train


def test_a_smaller_image_takes_the_same_share_in_a_batch():
    """16x16 = 256 pixels with counts given for 1024: batches a quarter as large, every
    count as given, but never below MIN_SCALED_BATCH pixels (or the batch given, if fewer);
    with --no-scale-batch (or --schedule-pixels None) the batch as given."""

    def scaled(batch: int, ramp: int = 0) -> tuple[int, int]:
        small = FitImageConfig(source="camera", size=16, schedule_pixels=1024)
        small.train.batch_size, small.train.batch_ramp = batch, ramp
        s = small.schedule(small.setup())
        # only the batch changes, and the ramp where its first batch would go below the floor
        assert s == replace(small.train, batch_size=s.batch_size, batch_ramp=s.batch_ramp)
        return s.batch_size, s.batch_ramp

    assert scaled(4 * MIN_SCALED_BATCH + 40) == (MIN_SCALED_BATCH + 10, 0)
    assert scaled(2 * MIN_SCALED_BATCH) == (MIN_SCALED_BATCH, 0)
    assert scaled(MIN_SCALED_BATCH + 4) == (MIN_SCALED_BATCH, 0)
    assert scaled(100) == (100, 0)
    # a ramp from a quarter of the batch: as long as its first batch stays above the floor
    assert scaled(64 * MIN_SCALED_BATCH, ramp=2) == (16 * MIN_SCALED_BATCH, 2)
    assert scaled(16 * MIN_SCALED_BATCH, ramp=2) == (4 * MIN_SCALED_BATCH, 2)
    assert scaled(12 * MIN_SCALED_BATCH, ramp=2) == (3 * MIN_SCALED_BATCH, 1)
    assert scaled(4 * MIN_SCALED_BATCH, ramp=2) == (MIN_SCALED_BATCH, 0)
    assert scaled(400, ramp=2) == (400, 2)  # a given batch's own ramp below the floor stays
    kept = FitImageConfig(source="camera", size=16, schedule_pixels=1024, scale_batch=False)
    assert kept.schedule(kept.setup()) is kept.train
    whole = FitImageConfig(source="camera", size=16, schedule_pixels=1024)
    whole.train.batch_size = None  # the full batch stays full
    assert whole.schedule(whole.setup()) is whole.train


def test_a_run_saved_before_scale_batch_resumes_with_its_batch(tmp_path):
    """A run folder from before --scale-batch trains a smaller image on the batch as given
    (FORMER_DEFAULTS), and ends on the weights of the same run never stopped."""

    def cfg() -> FitImageConfig:
        # 64x64 = 4096 pixels, a quarter of the 16384 the counts are given for: scaled, the
        # batch would be MIN_SCALED_BATCH pixels, not the 3000 given
        c = FitImageConfig(source="camera", size=64, out=tmp_path / "runs", schedule_pixels=16384)
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(steps=6, batch_size=3000, batch_growth_every=0)
        c.scale_batch = False  # as the code before the field ran
        return c

    assert cfg().schedule(cfg().setup()).batch_size == 3000
    scaled = cfg()
    scaled.scale_batch = True
    assert scaled.schedule(scaled.setup()).batch_size == MIN_SCALED_BATCH
    assert_stripped_resume_matches_full_run(cfg, ("scale_batch",))


def test_a_run_saved_before_batch_ramp_resumes_without_one(tmp_path):
    """A run folder from before --batch-ramp has no such field in its train settings: resumed
    inside the first batch phase, it keeps batch_size from step 0 (TrainConfig's default 0),
    not fit image's ramp, and ends on the weights of the same run never stopped."""

    def cfg() -> FitImageConfig:
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs")
        c.model.hidden, c.model.layers = 24, 3
        # steps 5-7 of the resumed run lie in the first phase, where a ramp would halve them
        c.train = tiny_train(steps=8, batch_size=64, batch_growth_every=8, batch_doublings=1)
        assert c.train.batch_ramp == 0  # as the code before the field ran
        return c

    ramped = cfg()
    ramped.train.batch_ramp = FitImageConfig().train.batch_ramp
    assert ramped.schedule(ramped.setup()).batch_ramp > 0  # so a wrong default would show
    assert_stripped_resume_matches_full_run(cfg, ("train.batch_ramp",))


def test_a_run_saved_before_steps_power_resumes_with_its_linear_steps(tmp_path):
    """A run folder from before --steps-power has no such field: resumed, its steps stay
    linear in the pixels (FORMER_DEFAULTS), 12 here, not the power rule's 24."""
    c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", schedule_pixels=64)
    c.model.hidden, c.model.layers = 24, 3
    c.train = tiny_train(steps=3, batch_size=32, batch_growth_every=1)
    c.steps_power = 1.0  # as the code before the power

    def stop_at_5(step, model):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run(c, callbacks=[stop_at_5])
    strip_saved_fields(info.value.run_dir, ("steps_power",))
    done = run(FitImageConfig(resume=info.value.run_dir))
    assert json.loads((done.run_dir / "summary.json").read_text())["steps"] == 12


def test_the_flat_curve_threshold_is_divided_as_the_steps_are_stretched():
    """16x16 with counts given for 64 pixels: 8 times the steps, so --min-gain judges an
    eighth of the gain per full image; undivided with min_gain_stretch off, on an image no
    larger than --schedule-pixels, or with no stretch at all."""

    def threshold(**kw) -> float | None:
        return FitImageConfig(source="camera", size=16, **kw).setup().quality.stop.min_gain

    assert threshold(schedule_pixels=64, min_gain=0.4) == pytest.approx(0.05)
    assert threshold(schedule_pixels=64, min_gain=0.4, steps_power=1.0) == pytest.approx(0.1)
    assert threshold(schedule_pixels=64, min_gain=0.4, min_gain_stretch=False) == 0.4
    assert threshold(schedule_pixels=1024, min_gain=0.4) == 0.4  # a smaller image
    assert threshold(schedule_pixels=None, min_gain=0.4) == 0.4
    assert threshold(schedule_pixels=64, min_gain=None) is None


def test_a_run_saved_before_min_gain_stretch_resumes_with_its_threshold_undivided(tmp_path):
    """A run folder from before min_gain_stretch judges its flat curve as it started: at the
    threshold as given (FORMER_DEFAULTS), not an eighth of it, and ends on the weights of the
    same run never stopped."""

    def cfg() -> FitImageConfig:
        c = FitImageConfig(source="camera", size=16, out=tmp_path / "runs", schedule_pixels=64)
        c.model.hidden, c.model.layers = 24, 3
        c.train = tiny_train(steps=3, batch_size=32, batch_growth_every=1)
        c.min_gain, c.min_gain_stretch = 0.4, False  # as the code before the field ran
        return c

    assert cfg().setup().quality.stop.min_gain == 0.4
    resumed = assert_stripped_resume_matches_full_run(cfg, ("min_gain_stretch",))
    assert resumed.task.quality.stop.min_gain == 0.4


def test_schedule_pixels_must_be_positive():
    with pytest.raises(SirenkitError, match="--schedule-pixels must be positive"):
        FitImageConfig(source="camera", size=16, schedule_pixels=0).setup()


@pytest.mark.parametrize("window", [0.0, -1.0, float("nan")])
def test_plateau_window_must_be_positive(window):
    with pytest.raises(SirenkitError, match="--plateau-window must be"):
        FitImageConfig(source="camera", size=16, plateau_window=window).setup()


@pytest.mark.parametrize("power", [0.5, float("nan"), float("inf")])
def test_steps_power_below_one_or_not_finite_is_refused(power):
    with pytest.raises(SirenkitError, match="--steps-power must be a finite number >= 1"):
        FitImageConfig(source="camera", size=16, schedule_pixels=64, steps_power=power).setup()
