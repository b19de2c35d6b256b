import pytest
import torch

from sirenkit.nets import Siren, build_model
from sirenkit.nets.cnp import ConditionalNeuralProcess
from sirenkit.nets.encoders import ConvEncoder, PartialConv2d, SetEncoder, context_pairs
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


def test_context_pairs_gather_exactly_the_observed_pixels():
    image, mask = sparse_batch()
    coords, values, example = context_pairs(image, mask)
    all_coords = grid(mask.shape[1:])
    assert len(example) == int(mask.sum())
    for b in range(image.shape[0]):
        flat = mask[b].reshape(-1)
        torch.testing.assert_close(coords[example == b], all_coords[flat])
        torch.testing.assert_close(values[example == b], image[b].reshape(-1, 3)[flat])


def test_set_encoder_is_the_mean_over_each_examples_pixels():
    image, mask = sparse_batch()
    enc = SetEncoder(5, 16, 2, 8)
    all_coords = grid(mask.shape[1:])
    for b, z in enumerate(enc(image, mask)):
        flat = mask[b].reshape(-1)
        pairs = torch.cat([all_coords[flat], image[b].reshape(-1, 3)[flat]], dim=-1)
        torch.testing.assert_close(z, enc.mlp(pairs).mean(0))


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


def test_partial_convolution_averages_what_it_observes():
    # a window's response is the kernel-weighted mean of its observed inputs: with a uniform
    # kernel on a constant image every window that saw a pixel answers as if all were seen
    torch.manual_seed(0)
    conv = PartialConv2d(1, 2, 3, padding=1)
    with torch.no_grad():
        conv.weight.fill_(0.5)
    image = torch.full((1, 1, 12, 12), 0.7)
    dense, seen_dense = conv(image, torch.ones(1, 1, 12, 12))
    sparse, seen = conv(image, (torch.rand(1, 1, 12, 12) < 0.1).float())
    assert seen_dense.all() and 0 < seen.sum() < seen.numel()
    hit = seen.bool().expand_as(sparse)
    torch.testing.assert_close(sparse[hit], dense[hit])
    assert (sparse[~hit] == 0).all()
    # over random sparse masks a general kernel's response is the dense one on average
    conv = PartialConv2d(1, 2, 3, padding=1)
    masks = (torch.rand(4000, 1, 12, 12) < 0.3).float()
    out, seen = conv(image.expand(4000, -1, -1, -1), masks)
    dense, _ = conv(image, torch.ones(1, 1, 12, 12))
    centre = out[:, :, 6, 6][seen[:, 0, 6, 6].bool()]
    torch.testing.assert_close(centre.mean(0), dense[0, :, 6, 6], atol=0.02, rtol=0)


def test_cnp_decoder_split_equals_the_plain_layer():
    image, mask = sparse_batch()
    model = ConditionalNeuralProcess(3, (6, 5), latent=8, encoder_hidden=16, decoder_hidden=16)
    r = model.encoder(image, mask)
    coords = grid((6, 5))
    rep = r[:, None, :].expand(-1, coords.shape[0], -1)
    plain = model.decoder[0](torch.cat([rep, coords.expand(3, -1, -1)], dim=-1))
    torch.testing.assert_close(model._first_layer(r, coords), plain)
    per_image = torch.rand(3, 7, 2)
    plain = model.decoder[0](torch.cat([r[:, None].expand(-1, 7, -1), per_image], dim=-1))
    torch.testing.assert_close(model._first_layer(r, per_image), plain)


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
