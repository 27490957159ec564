"""A CNN on the digits: what its filters learn, and the gradients that taught them.

The network is the shared recipe (``cm.train.recipes.digits_cnn``): standardize → 3×3 convolution (32 filters,
padding 1) → ReLU → 2×2 max-pool → 128 ReLU → 10 logits, trained with Adam and a cosine schedule. Each filter
w_o is a 3×3 stencil slid over the image; its gradient is (see ``calcml.apps.convolution``)

    ∂L/∂w[o, 0, a, b] = Σ_{n,i,j} ∂L/∂z[n, o, i, j] · x_p[n, 0, i + a, j + b],

the images correlated with the gradient arriving at the filter's output map z_o. ``study`` measures it twice
— by the engine's backward pass through the whole network, and by that sum from the gradient at z — and
``cm.viz.cnn_filters`` draws the filters and their gradients, one small image per filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calcml import nn
from calcml.apps.convolution import filter_grad2d
from calcml.autodiff.state import no_grad
from calcml.autodiff.transforms import grad
from calcml.data.dataset import Dataset
from calcml.train import recipes


def conv_layer_index(model: nn.Sequential) -> int:
    """Position of the first Conv2d in a Sequential model."""
    for i, layer in enumerate(model):
        if isinstance(layer, nn.Conv2d):
            return i
    raise ValueError("conv_layer_index: the model has no Conv2d layer.")


@dataclass(frozen=True)
class FilterGradient:
    """∂L/∂w of the first convolution on (X, y): by the engine, and by the hand formula from ∂L/∂z."""

    engine: np.ndarray
    by_hand: np.ndarray
    loss: float

    @property
    def max_relative_error(self) -> float:
        return float(np.max(np.abs(self.engine - self.by_hand)) / np.max(np.abs(self.engine)))


def filter_gradient(model: nn.Sequential, X: np.ndarray, y: np.ndarray) -> FilterGradient:
    """The gradient of the mean cross-entropy on (X, y) with respect to the first convolution's filters.

    Engine: one backward pass through the whole model. By hand: the layers before the convolution give its
    input x, the engine gives g = ∂L/∂z at its output z, and ``filter_grad2d(x, g)`` sums x against g.
    The model's parameter gradients are left cleared.
    """
    index = conv_layer_index(model)
    conv, before, after = model[index], model[:index], model[index + 1:]
    model.zero_grad()
    loss = nn.losses.cross_entropy(model(X), y)
    loss.backward()
    engine = np.asarray(conv.weight.grad, dtype=np.float64).copy()
    model.zero_grad()

    with no_grad():  # the hand formula works on plain arrays: x, z and g as constants
        x = np.asarray(before(X))
        z = np.asarray(conv(x))
        g = grad(lambda z: nn.losses.cross_entropy(after(z), y))(z)
    by_hand = filter_grad2d(x, g, conv.weight.shape[-2:], conv.stride, conv.padding)
    model.zero_grad()
    return FilterGradient(engine, by_hand, float(loss.value))


@dataclass(frozen=True)
class CNNCaseStudy:
    """The trained recipe, its filters and their gradients (on the training set) before and after training."""

    trained: recipes.TrainedModel
    initial_filters: np.ndarray  # (filters, kh, kw)
    initial_gradient: FilterGradient
    filters: np.ndarray
    gradient: FilterGradient

    @property
    def accuracy(self) -> float:
        return self.trained.test.accuracy

    def panels(self) -> dict[str, np.ndarray]:
        """The four stacks of 3×3 images to draw, titled."""
        return {
            "filters at initialization": self.initial_filters,
            f"∂L/∂w at initialization (loss {self.initial_gradient.loss:.3f})": self.initial_gradient.engine[:, 0],
            f"learned filters (test accuracy {self.accuracy:.1%})": self.filters,
            f"∂L/∂w after training (loss {self.gradient.loss:.3f})": self.gradient.engine[:, 0],
        }

    def __str__(self) -> str:
        norm = lambda a: float(np.linalg.norm(a))
        return "\n".join([
            f"digits CNN: test accuracy {self.accuracy:.2%} after {self.trained.history.epochs} epochs "
            f"({self.trained.seconds:.1f} s)",
            f"  {len(self.filters)} filters of {self.filters.shape[1]}×{self.filters.shape[2]}; "
            f"‖w‖ {norm(self.initial_filters):.3f} → {norm(self.filters):.3f}, moved by "
            f"‖Δw‖ = {norm(self.filters - self.initial_filters):.3f}",
            f"  ‖∂L/∂w‖ on the training set: {norm(self.initial_gradient.engine):.3e} at initialization, "
            f"{norm(self.gradient.engine):.3e} after training",
            "  engine vs correlation of input and output gradient (max relative difference, float32): "
            f"{self.initial_gradient.max_relative_error:.1e} / {self.gradient.max_relative_error:.1e}",
        ])


def study(data: Dataset, epochs: int = 30, seed: int = 0) -> CNNCaseStudy:
    """Train the digits CNN recipe for ``epochs`` (30 reach ≥ 97%), and measure the first layer's filters and
    their training-set gradients at initialization and at the end."""
    initial = recipes.make_model("cnn", data, seed=seed)  # the same initialization train_classifier starts from
    index = conv_layer_index(initial)
    initial_filters = initial[index].weight.value[:, 0].astype(np.float64)
    initial_gradient = filter_gradient(initial, data.X_train, data.y_train)
    trained = recipes.train_classifier(data, model="cnn", optimizer="adam", epochs=epochs, seed=seed)
    filters = trained.model[index].weight.value[:, 0].astype(np.float64)
    gradient = filter_gradient(trained.model, data.X_train, data.y_train)
    return CNNCaseStudy(trained, initial_filters, initial_gradient, filters, gradient)
