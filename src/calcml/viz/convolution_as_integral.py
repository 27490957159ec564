"""``convolution_as_integral``: a convolution is an integral, and on a grid a sum — the curves, the sum's error
against the spacing h, and the 2-D result (``calcml.apps.convolution`` computes all three)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from calcml.apps import convolution
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import themed


@themed
def convolution_as_integral(path: str | Path | None = None, h: float = 0.25, sigma: float = 0.5,
                            half_width: float = 1.0, study: Any = None) -> Figure:
    """Three panels: f, g, the exact f ∗ g and the discrete sum at spacing ``h``; the error against h on log
    axes (slopes 2 and 1, from ``convolution.convergence_study`` unless ``study`` is given); the 2-D discrete
    result.

    >>> from calcml.apps import convolution
    >>> fig = cm.viz.convolution_as_integral(study=convolution.convergence_study(hs=(0.2, 0.1)))
    >>> len(fig.axes)  # three panels and a colour bar
    4
    """
    study = study or convolution.convergence_study(sigma=sigma, half_width=half_width)
    fig = new_figure(14.0, 4.6)
    curves, errors, image = fig.subplots(1, 3)

    fine = np.linspace(-3, 3, 601)
    coarse = convolution.gaussian_box_1d(h, sigma, half_width)
    curves.plot(fine, convolution.gaussian(fine, sigma), color="C0", label=f"f = N(0, {sigma}²)")
    curves.plot(fine, (np.abs(fine) <= half_width).astype(float), color="C3",
                label=f"g = box [−{half_width}, {half_width}]")
    curves.plot(fine, convolution.gaussian_box_exact(fine, sigma, half_width), color="black",
                label="f ∗ g (integral)")
    shown = np.abs(coarse.t) <= 3
    curves.plot(coarse.t[shown], coarse.discrete[shown], "o", color="C1", markersize=5, label=f"h·Σ f g, h = {h}")
    curves.set(title="convolution: an integral, and its sum", xlabel="t", ylim=(-0.05, 1.5))
    curves.legend(loc="upper center", ncols=2)

    for (name, e), marker in zip(study.errors.items(), "os"):
        slope = study.orders(name)[-1]
        errors.loglog(study.h, e, marker + "-", label=f"{name} edges (order {slope:.2f})")
    errors.loglog(study.h, study.errors["trapezoid"][0] * (study.h / study.h[0]) ** 2, "k:", label="∝ h²")
    errors.loglog(study.h, study.errors["riemann"][0] * (study.h / study.h[0]), "k--", label="∝ h")
    errors.set(title="max |sum − integral|", xlabel="grid spacing h", ylabel="error")
    errors.legend()

    plane = convolution.gaussian_box_2d(0.05, sigma, half_width)
    extent = (plane.t[0], plane.t[-1], plane.t[0], plane.t[-1])
    shown = image.imshow(plane.discrete, extent=extent, origin="lower", cmap="viridis")
    image.set(title=f"2-D: h²ΣΣ f g (max error {plane.max_error:.1e})", xlabel="x", ylabel="y")
    fig.colorbar(shown, ax=image, shrink=0.8)
    return finish(fig, path)
