import pytest
import torch

from sirenkit import build_model, load
from sirenkit.errors import SirenkitError
from sirenkit.training.checkpoint import save_checkpoint


def test_atomic_save_and_load(tmp_path):
    net = build_model("siren", in_features=2, hidden_features=8, hidden_layers=1, out_features=1)
    path = save_checkpoint(tmp_path / "c.pt", net, step=3)
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary files left
    back = load(path)
    x = torch.rand(5, 2)
    torch.testing.assert_close(back(x), net(x))


def test_corrupt_or_foreign_checkpoints_are_reported(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(SirenkitError, match="corrupt"):
        load(bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(SirenkitError, match="not a sirenkit checkpoint"):
        load(other)
    with pytest.raises(SirenkitError, match="not found"):
        load(tmp_path / "none.pt")


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("siren", {"first_omega_0": 7.0, "hidden_omega_0": 11.0}, {"w0": 7.0, "hidden_w0": 11.0}),
        ("siren_batch", {"count": 2, "first_omega_0": 7.0}, {"count": 2, "w0": 7.0}),
        ("wire", {"omega_0": 7.0}, {"w0": 7.0}),
    ],
)
def test_checkpoint_with_the_old_frequency_names_loads(tmp_path, name, old, new):
    """Checkpoints written before the rename spell w0 the authors' way (first_omega_0, ...)."""
    sizes = {"in_features": 2, "hidden_features": 8, "hidden_layers": 1, "out_features": 1}
    net = build_model(name, **sizes, **new)
    path = save_checkpoint(tmp_path / "c.pt", net)
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"]["kwargs"] = {**sizes, **old}  # as an older sirenkit wrote it
    torch.save(ckpt, path)
    back = load(path)
    assert back.sirenkit_spec["kwargs"] == {**sizes, **new}
    x = torch.rand(5, 2)
    torch.testing.assert_close(back(x), net(x))
