import numpy as np
import pytest

import calcml as cm
import calcml.nn as nn


def _cnn(seed):
    return nn.Sequential(nn.Conv2d(1, 2, 3, rng=seed), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.5, rng=seed), nn.Linear(2 * 3 * 3, 4, rng=seed))


def test_parameters_are_found_recursively_in_a_stable_order():
    class Net(nn.Module):
        def __init__(self):
            self.body = _cnn(0)
            self.heads = [nn.Linear(4, 2), nn.Linear(4, 1)]
            self.scale = cm.Tensor(np.ones(1), requires_grad=True)
            self.constant = cm.Tensor(np.ones(1))

        def forward(self, x):
            return self.heads[0](self.body(x)) * self.scale

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "body.5.weight", "body.5.bias", "heads.0.weight",
                     "heads.0.bias", "heads.1.weight", "heads.1.bias", "scale"]
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert net.body[4].training


def test_save_and_load_round_trip_through_an_atomic_npz(tmp_path):
    model, other = _cnn(0), _cnn(1)
    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    model.eval(), other.eval()
    assert not np.allclose(model(x).value, other(x).value)
    path = model.save(tmp_path / "model.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary file left behind
    kept = other.parameters()
    other.load(path)
    np.testing.assert_array_equal(model(x).value, other(x).value)
    assert [id(p) for p in other.parameters()] == [id(p) for p in kept]  # loaded in place
    assert other.parameters()[0].dtype == np.float32
    other.load_state_dict(np.load(path))


def test_load_state_dict_names_what_does_not_match():
    with pytest.raises(cm.CalcmlError, match="missing"):
        _cnn(0).load_state_dict({"0.weight": np.zeros((2, 1, 3, 3))})
    state = _cnn(0).state_dict()
    state["0.bias"] = np.zeros(3)
    with pytest.raises(cm.ShapeError, match="0.bias"):
        _cnn(0).load_state_dict(state)


def test_state_dict_is_a_copy():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    state["weight"][...] = 7.0
    assert not np.any(model.weight.value == 7.0)
