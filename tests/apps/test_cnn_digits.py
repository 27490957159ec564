"""The digits CNN case study: it trains to ≥ 97%, its filter gradients are the hand-derived correlation, and the
picture has one image per filter."""

from __future__ import annotations

import numpy as np
import pytest

import calcml as cm
from calcml import data, nn
from calcml.apps import cnn_digits
from calcml.train import recipes


@pytest.fixture(scope="module")
def digits():
    return data.digits()


@pytest.fixture(scope="module")
def case(digits):
    return cnn_digits.study(digits, epochs=30, seed=0)


def test_cnn_reaches_97_percent(case, digits):
    assert case.accuracy >= 0.97, case.trained.test
    with cm.no_grad():
        logits = np.asarray(case.trained.model(digits.X_test))
    assert np.mean(logits.argmax(1) == digits.y_test) == case.accuracy


def test_engine_filter_gradient_is_the_correlation_of_input_and_output_gradient(case):
    for gradient in (case.initial_gradient, case.gradient):
        assert gradient.engine.shape == (32, 1, 3, 3)
        assert gradient.max_relative_error < 1e-5  # float32 network
    # training drove the filters' gradient down by orders of magnitude
    assert np.linalg.norm(case.gradient.engine) < 0.05 * np.linalg.norm(case.initial_gradient.engine)


def test_filter_gradient_hand_check_can_tell_a_wrong_layer_apart(digits):
    # a model whose convolution has stride 2 and no padding: the hand formula must follow stride and padding
    rng = np.random.default_rng(3)
    model = nn.Sequential(recipes.ImageView(8, 8), nn.Conv2d(1, 4, 3, stride=2, rng=rng, dtype=np.float64),
                          nn.Tanh(), nn.Flatten(), nn.Linear(4 * 3 * 3, 10, rng=rng, dtype=np.float64))
    X, y = digits.X_train[:50].astype(np.float64), digits.y_train[:50]
    gradient = cnn_digits.filter_gradient(model, X, y)
    assert gradient.max_relative_error < 1e-12
    assert all(p.grad is None for p in model.parameters())


def test_initial_filters_are_the_recipes_initialization(case, digits):
    fresh = recipes.make_model("cnn", digits, seed=0)
    np.testing.assert_array_equal(case.initial_filters, fresh[2].weight.value[:, 0])
    assert not np.allclose(case.filters, case.initial_filters)


def test_filters_picture_has_one_image_per_filter(case):
    panels = case.panels()
    fig = cm.viz.cnn_filters(panels)  # (the example's test checks that the file is written)
    assert len(fig.subfigs) == len(panels) == 4
    for subfig, stack in zip(fig.subfigs, panels.values()):
        images = [ax.images[0].get_array() for ax in subfig.axes if ax.images]
        assert len(images) == len(stack) == 32
        np.testing.assert_array_equal(images[5], stack[5])  # each axis shows its own filter, in order


def test_filters_picture_with_fewer_filters_than_a_row():
    fig = cm.viz.cnn_filters({"three": np.ones((3, 5, 5))})
    assert sum(len(ax.images) for ax in fig.axes) == 3
