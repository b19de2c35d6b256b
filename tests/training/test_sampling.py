import math

import pytest
import torch

from sirenkit.training.sampling import ErrorSampler, GainStop, TargetCheck, TrainingQuality


def _heavy_tailed_errors(n: int) -> torch.Tensor:
    """Squared errors like an image's: mostly small, a few edges much larger."""
    g = torch.Generator().manual_seed(1)
    e = torch.rand(n, generator=g) * 1e-3
    e[torch.randperm(n, generator=g)[: n // 20]] = 0.5
    return e


def test_weighted_batch_loss_is_an_unbiased_estimate_of_the_full_loss():
    n, batch, draws = 2000, 64, 4000
    errors = _heavy_tailed_errors(n)
    sampler = ErrorSampler(n, mix=0.8)
    sampler.observe(None, errors * torch.linspace(0.2, 3.0, n))  # stale, unlike `errors`
    g = torch.Generator().manual_seed(0)
    estimates = []
    for _ in range(draws):
        idx, w = sampler.draw(batch, g)
        estimates.append(float((errors[idx] * w).mean()))
    est = torch.tensor(estimates, dtype=torch.float64)
    stderr = float(est.std()) / math.sqrt(draws)
    assert abs(float(est.mean()) - float(errors.mean())) < 4 * stderr
    # the draw is not uniform: errors seen as large are drawn far more often
    idx, _ = sampler.draw(20000, g)
    seen = torch.bincount(idx, minlength=n).float()
    assert seen[errors > 0.1].mean() > 5 * seen[errors < 0.1].mean()


def test_error_driven_estimate_has_less_variance_than_uniform_on_heavy_tails():
    n, batch = 2000, 64
    errors = _heavy_tailed_errors(n)
    g = torch.Generator().manual_seed(0)
    uniform = torch.stack(
        [errors[torch.randint(n, (batch,), generator=g)].mean() for _ in range(500)]
    )
    sampler = ErrorSampler(n, mix=0.8)
    sampler.observe(None, errors)
    weighted = []
    for _ in range(500):
        idx, w = sampler.draw(batch, g)
        weighted.append((errors[idx] * w).mean())
    assert torch.stack(weighted).var() < 0.2 * uniform.var()


def test_observe_updates_only_the_drawn_points_and_state_round_trips():
    sampler = ErrorSampler(5, mix=0.5)
    sampler.observe(torch.tensor([1, 3]), torch.tensor([4.0, 9.0]))  # squared errors
    assert sampler.error.tolist() == [1.0, 2.0, 1.0, 3.0, 1.0]  # kept as |r|
    p = sampler.probabilities()
    assert float(p.sum()) == pytest.approx(1.0) and float(p.min()) >= 0.5 / 5
    other = ErrorSampler(5, mix=0.5)
    other.load_state_dict(sampler.state_dict())
    assert torch.equal(other.error, sampler.error)


def test_gain_stop_reaches_a_target():
    stop = GainStop(target=40.0)
    assert not any(stop.update(w, q) for w, q in [(1, 20.0), (2, 30.0), (3, 39.9)])
    assert stop.update(4, 40.0) and "target" in stop.reason


def test_the_target_is_checked_on_the_fitted_network_once_the_estimate_comes_near():
    """The estimate lags the fitted network: it is checked from 3 dB below the target, then
    where the estimate plus the offset that check measured comes within 0.5 dB, never twice
    for one measurement, and at most every two full images while it falls short."""
    check = TargetCheck()
    assert not check.due((1.0, 36.9), 40.0, reached=False)  # more than 3 dB below
    assert check.due((2.0, 37.0), 40.0, reached=False)
    assert check.measure(39.0, (2.0, 37.0)) == 39.0 and check.offset == 2.0
    assert not check.due((2.0, 37.0), 40.0, reached=False)  # this measurement is judged
    assert not check.due((3.0, 38.0), 40.0, reached=False)  # 39.5 + 0.5, but too soon
    assert check.due((4.0, 37.6), 40.0, reached=False)  # 37.6 + 2 >= 39.5
    check.measure(39.2, (4.0, 37.6))
    assert not check.due((6.0, 37.7), 40.0, reached=False)  # 37.7 + 1.6 < 39.5
    assert check.due((6.5, 37.7), 40.0, reached=True)  # the estimate's own claim
    again = TargetCheck()
    again.load_state_dict(check.state_dict())
    assert again.state_dict() == check.state_dict()


def test_a_target_reached_by_the_fitted_network_stops_the_run_before_the_estimate_does():
    quality = TrainingQuality(GainStop(target=40.0))
    for estimate in (30.0, 36.0, 37.5):
        quality.observe(4.0 / 10 ** (estimate / 10), 1.0)
        quality.confirm_target(lambda: 40.2)  # the average is ahead
    assert quality.stop.reason == "reached the target 40" and quality.stop.history[-1][1] < 38
    resumed = TrainingQuality(GainStop(target=40.0))
    resumed.load_state_dict(quality.state_dict())  # a checkpoint keeps when it last checked
    assert resumed.target_check.state_dict() == quality.target_check.state_dict()
    assert resumed.target_check.offset is not None
    short = TrainingQuality(GainStop(target=40.0))
    short.observe(4.0 / 10**4.05, 1.0)  # the estimate says 40.5 dB
    short.confirm_target(lambda: 39.8)
    assert short.stop.reason == ""  # not confirmed: go on


def test_gain_stop_stops_on_a_flat_curve_and_not_on_a_rising_one():
    rising, flat = GainStop(min_gain=0.05, window=20), GainStop(min_gain=0.05, window=20)
    # rising: 0.1 dB per unit of work throughout (a slow but steady fit)
    assert not any(rising.update(w, 30 + 0.1 * w) for w in range(0, 200, 5))
    # flat after work 60: noise of +-0.2 dB around 40 dB
    stops = [flat.update(w, min(30 + 0.5 * w / 3, 40.0) + 0.2 * (-1) ** w) for w in range(0, 200)]
    first = stops.index(True)
    assert 60 < first <= 90 and "gain" in flat.reason


def test_gain_stop_is_not_ended_by_one_lucky_measurement():
    """A partial batch's estimate is noisy: one high reading early on must not make a fit
    that still rises steadily look flat a window later."""
    stop = GainStop(min_gain=0.05, window=20)
    curve = [(w, 30 + 0.1 * w + (3.0 if w == 10 else 0.0)) for w in range(0, 120)]
    assert not any(stop.update(w, q) for w, q in curve)


def test_gain_stop_judges_no_curve_before_its_start():
    """Muon's fit sits on a floor while the learning rate is high and climbs again once it
    decays (the clock: flat at 36 dB from 4 to 25 units of work): the image task's rule only
    judges from three quarters of its steps on."""
    floor_then_climb = [(w, 36.0 if w < 50 else 36.0 + 0.2 * (w - 50)) for w in range(0, 100)]
    early, judged_late = GainStop(min_gain=0.02, window=20), GainStop(min_gain=0.02, start=50)
    assert any(early.update(w, q) for w, q in floor_then_climb)
    assert not any(judged_late.update(w, q) for w, q in floor_then_climb)
    # a curve that is still flat after the start is stopped, a window after it
    flat = GainStop(min_gain=0.02, window=20, start=50)
    first = [flat.update(w, 36.0) for w in range(0, 100)].index(True)
    assert first == 70


def test_the_image_config_judges_flatness_from_three_quarters_of_its_steps(tmp_path):
    from sirenkit.tasks.image import FitImageConfig

    cfg = FitImageConfig(source="camera", size=16)
    cfg.train.steps, cfg.train.batch_size, cfg.train.batch_growth_every = 40, 64, 0
    assert cfg.setup().quality.stop.start == pytest.approx(30 * 64 / 256)


def test_plateau_decay_cuts_on_a_flat_curve_only_and_waits_a_window_after_a_cut():
    from sirenkit.training.sampling import PlateauDecay

    rising, flat = PlateauDecay(0.05, window=5), PlateauDecay(0.05, window=5)
    assert {rising.update(w, 30 + 0.1 * w) for w in range(0, 60)} == {1.0}
    factors = [flat.update(w, 36.0 + 0.01 * (-1) ** w) for w in range(0, 21)]
    # judged from a window on (work 5), then a window after each cut
    assert factors[4] == 1.0 and factors[5] == 0.5 and factors[9] == 0.5
    assert factors[10] == 0.25 and factors[20] == 0.25 * 0.25
    again = PlateauDecay(0.05, window=5)
    again.load_state_dict(flat.state_dict())
    assert again.factor == flat.factor and again.history == flat.history


def test_plateau_decay_hands_over_to_the_schedule_without_a_jump_up():
    """After its phase the rule holds the last rate it set until the schedule's falls below
    it (a jump back up would raise Muon's floor again)."""
    from sirenkit.training.sampling import PlateauDecay

    rule = PlateauDecay(0.05, window=2, until=10)
    rule.factor = 0.25
    assert rule.rate(1.0, work=9.5) == 0.25  # in the phase: the schedule's times the factor
    resumed = PlateauDecay(0.05, window=2, until=10)  # a run resumed after the phase
    resumed.load_state_dict(rule.state_dict())
    assert resumed.rate(0.8, work=10) == 0.25
    after = [rule.rate(r, work=10 + i) for i, r in enumerate([0.8, 0.4, 0.2, 0.1])]
    assert after == [0.25, 0.25, 0.2, 0.1]
    assert rule.update(11, 30.0) == 0.25 and rule.history == []  # no judging after it


def test_draws_follow_the_stated_probabilities():
    """The mixture draw (a binomial share by error, the rest uniform) must land on each point
    as often as :meth:`ErrorSampler.probabilities` says, whatever the mix."""
    n = 50
    g = torch.Generator().manual_seed(0)
    for mix in (0.2, 0.9):
        sampler = ErrorSampler(n, mix=mix)
        sampler.observe(None, torch.linspace(0.0, 1.0, n) ** 4)  # one point never seen wrong
        idx, w = sampler.draw(1_000_000, g)
        seen = torch.bincount(idx, minlength=n).double() / idx.numel()
        p = sampler.probabilities().double()
        assert torch.allclose(seen, p, rtol=0.1, atol=0)
        assert torch.allclose(w.double(), 1.0 / (n * p[idx]), rtol=1e-5)
