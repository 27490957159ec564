import os

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


# ---- hostile and interrupted model files ------------------------------------------------------------
def _bomb_load(path, max_bytes=None):
    """Load ``path`` into a fresh Linear(3, 2) in a fresh process: time, memory and the error raised."""
    from tests.data.bombs import measure

    cap = "" if max_bytes is None else f", max_bytes={max_bytes}"
    return measure("import calcml.nn as nn\nmodel = nn.Linear(3, 2)", f"model.load({str(path)!r}{cap})")


def _cheap(result, error, match):
    assert result["error"] is not None and result["error"][0] == error and match in result["error"][1], result
    assert result["seconds"] < 1.0 and result["traced_mb"] < 100 and result["rss_growth_mb"] < 100, result


def test_an_npz_bomb_with_other_names_is_refused_before_any_array_is_read(tmp_path):
    from tests.data.bombs import npy_header, npz_bomb

    path = tmp_path / "evil.npz"
    npz_bomb(path, {"evil": (npy_header(np.float64, (1 << 27,)), 64)})  # 1 GiB of zeros, 1 MB on disk
    assert path.stat().st_size < 4 << 20
    _cheap(_bomb_load(path, max_bytes=4 << 30), "CalcmlError", "unexpected: ['evil']")
    _cheap(_bomb_load(path), "DataFormatError", "more than the limit of 1,073,741,824")


def test_an_npz_bomb_with_the_right_names_is_refused_by_shape_or_by_the_cap(tmp_path):
    from tests.data.bombs import npy_header, npz_bomb

    path = tmp_path / "big.npz"
    npz_bomb(path, {"weight": (npy_header(np.float64, (1 << 27,)), 64), "bias": (npy_header(np.float64, (0,)), 0)})
    _cheap(_bomb_load(path, max_bytes=4 << 30), "ShapeError", "'weight' has shape (134217728,)")
    _cheap(_bomb_load(path), "DataFormatError", "more than the limit of 1,073,741,824")


def test_a_zip_that_lies_about_its_sizes_is_read_only_as_far_as_it_declares(tmp_path):
    """The zip headers declare the sizes a Linear(3, 2) needs; the deflate stream goes on for 1 GiB.
    zipfile stops at the declared size, so the load is cheap (and reads zeros)."""
    from tests.data.bombs import npy_header, npz_bomb

    path = tmp_path / "liar.npz"
    weight, bias = npy_header(np.float64, (3, 2)), npy_header(np.float64, (2,))
    npz_bomb(path, {"weight": (weight, 64), "bias": (bias, 0)},
             declared_size={"weight": len(weight) + 48, "bias": len(bias) + 16})
    result = _bomb_load(path)
    assert result["seconds"] < 1.0 and result["traced_mb"] < 100 and result["rss_growth_mb"] < 100, result
    model = nn.Linear(3, 2)
    if result["error"] is None:
        model.load(path)
        assert np.all(model.weight.value == 0)


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "pickle.npz"
    np.savez(path, weight=np.array([[object()] * 2] * 3, dtype=object), bias=np.zeros(2))
    with pytest.raises(cm.data.DataFormatError, match="Python objects"):
        nn.Linear(3, 2).load(path)


def test_a_wrong_dtype_or_a_non_npz_is_a_clear_error(tmp_path):
    path = tmp_path / "text.npz"
    np.savez(path, weight=np.full((3, 2), "a"), bias=np.zeros(2))
    with pytest.raises(cm.data.DataFormatError, match="stored as <U1"):
        nn.Linear(3, 2).load(path)
    path.write_bytes(b"not a zip at all")
    with pytest.raises(cm.data.DataFormatError, match="not a readable .npz"):
        nn.Linear(3, 2).load(path)


def test_a_temporary_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    """A save killed mid-write (os._exit inside np.savez: no cleanup runs) leaves model.npz.<pid>.*.tmp;
    the next save removes it, and keeps temporaries of processes that still run."""
    import subprocess
    import sys

    path = tmp_path / "model.npz"
    script = (
        "import os, numpy as np, calcml.nn as nn\n"
        "def dies(file, **arrays):\n    file.write(b'PK partial'); file.flush(); os._exit(9)\n"
        f"np.savez = dies\nnn.Linear(3, 2).save({str(path)!r})\n"
    )
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == 9
    left = list(tmp_path.glob("model.npz.*.tmp"))
    assert len(left) == 1 and not path.exists()
    alive = tmp_path / f"model.npz.{os.getppid()}.keep.tmp"  # a live process's save in flight
    alive.write_bytes(b"in progress")
    nn.Linear(3, 2).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.npz", alive.name])
    nn.Linear(3, 2).load(path)
