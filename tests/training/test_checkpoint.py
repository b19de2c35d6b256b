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
