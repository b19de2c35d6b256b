import pytest
import torch

from sirenkit.nets import Siren, build_model
from sirenkit.nets.cnp import ConditionalNeuralProcess
from sirenkit.nets.encoders import ConvEncoder, SetEncoder, context_set
from sirenkit.nets.hypernet import HyperNetwork, SirenPrior, batched_siren
from sirenkit.signals.grid import grid

SIREN = {"in_features": 2, "hidden_features": 8, "hidden_layers": 1, "out_features": 3}


def sparse_batch(b: int = 3, h: int = 6, w: int = 5, c: int = 3):
    g = torch.Generator().manual_seed(0)
    image = torch.rand(b, h, w, c, generator=g) * 2 - 1
    mask = torch.rand(b, h, w, generator=g) < 0.3
    mask[:, 0, 0] = True
    return image, mask


def test_emitted_parameters_have_the_siren_shapes():
    hyper = HyperNetwork(latent=4, siren=SIREN, hidden=16)
    params = hyper(torch.randn(5, 4))
    expected = dict(Siren(**SIREN).named_parameters())
    assert params.keys() == expected.keys()
    for name, p in params.items():
        assert p.shape == (5, *expected[name].shape)


def test_emitted_sirens_equal_sirens_loaded_with_the_same_weights():
    hyper = HyperNetwork(latent=4, siren=SIREN, hidden=16)
    params = hyper(torch.randn(3, 4))
    coords = torch.rand(3, 7, 2) * 2 - 1
    batched = hyper.render(params, coords)
    shared = hyper.render(params, coords[0])
    for b in range(3):
        net = Siren(**SIREN)
        net.load_state_dict({k: v[b] for k, v in params.items()})
        torch.testing.assert_close(batched[b], net(coords[b]))
        torch.testing.assert_close(shared[b], net(coords[0]))


def test_emitted_weights_start_near_the_siren_init():
    torch.manual_seed(0)
    hyper = HyperNetwork(latent=16, siren={**SIREN, "hidden_features": 32}, hidden=32)
    params = hyper(torch.randn(8, 16))
    bound = (6 / 32) ** 0.5 / 30  # the SIREN init range of the hidden layers
    w = params["net.1.weight"]
    assert w.abs().max() < 1.5 * bound
    assert w.std() > 0.3 * bound  # not collapsed
    # different codes give (slightly) different networks
    assert (w[0] - w[1]).abs().max() > 1e-4


def test_batched_siren_gradients_reach_the_parameters():
    net = Siren(**SIREN)
    params = {
        k: v.detach()[None].repeat(2, *[1] * v.ndim).requires_grad_()
        for k, v in net.named_parameters()
    }
    out = batched_siren(net, params, grid((4, 4)))
    out.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params.values())


def test_context_set_gathers_exactly_the_observed_pixels():
    image, mask = sparse_batch()
    coords, values, valid = context_set(image, mask)
    all_coords = grid(mask.shape[1:])
    for b in range(image.shape[0]):
        k = int(mask[b].sum())
        assert valid[b].sum() == k
        flat = mask[b].reshape(-1)
        torch.testing.assert_close(coords[b, :k], all_coords[flat])
        torch.testing.assert_close(values[b, :k], image[b].reshape(-1, 3)[flat])


def test_encoders_ignore_unobserved_pixels():
    image, mask = sparse_batch()
    noisy = torch.where(mask[..., None], image, torch.randn_like(image))
    for enc in (SetEncoder(5, 16, 2, 8), ConvEncoder(3, 8, 8, (6, 5))):
        z = enc(image, mask)
        assert z.shape == (3, 8)
        torch.testing.assert_close(enc(noisy, mask), z)


@pytest.mark.parametrize("encoder", ["set", "conv"])
def test_siren_prior_outputs(encoder):
    image, mask = sparse_batch()
    model = SirenPrior(3, (6, 5), encoder=encoder, latent=8, encoder_hidden=16, siren_hidden=8)
    pred, extras = model(image, mask)
    assert pred.shape == (3, 30, 3)
    assert set(extras) == {"latent_l2", "param_l2"} and extras["param_l2"] > 0
    assert model(image, mask, torch.zeros(4, 2))[0].shape == (3, 4, 3)


def test_cnp_outputs_mean_and_positive_sigma():
    image, mask = sparse_batch()
    model = ConditionalNeuralProcess(3, (6, 5), latent=8, encoder_hidden=16, decoder_hidden=16)
    mean, extras = model(image, mask)
    assert mean.shape == extras["sigma"].shape == (3, 30, 3)
    assert extras["sigma"].min() >= 0.01


def test_priors_are_registered_for_checkpoints():
    model = build_model("siren-prior", channels=1, resolution=[4, 4], latent=4, siren_hidden=4)
    assert model.sirenkit_spec["name"] == "siren-prior"
    assert isinstance(build_model("cnp", channels=1, resolution=[4, 4]), ConditionalNeuralProcess)
