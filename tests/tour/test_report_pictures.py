"""Every chapter of the tour is drawn, and the new drawings show what their chapters claim."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calcml.tour import CHAPTERS, pictures
from calcml.tour.report import PICTURES


@pytest.fixture(scope="module")
def chapters():
    return [make_chapter() for make_chapter in CHAPTERS]


def test_every_chapter_has_a_picture(chapters):
    missing = [c.title for c in chapters if not any(part.title in PICTURES for part in c.parts())]
    assert not missing, f"chapters without a drawing in PICTURES (for them or a section): {missing}"
    titles = {part.title for c in chapters for part in c.parts()}
    assert not set(PICTURES) - titles, "PICTURES names a chapter or section that is not in the tour"


def _line(figure, label, axes=0):
    return next(line for line in figure.axes[axes].lines if line.get_label() == label).get_xydata().T


def test_difference_errors_form_a_v_with_its_floor_between_1e_9_and_1e_4():
    figure = pictures.gradient_check_v()
    h, central = _line(figure, "central")
    assert 1e-9 <= h[np.argmin(central)] <= 1e-4
    h, forward = _line(figure, "forward")
    assert 1e-10 <= h[np.argmin(forward)] <= 1e-6 and forward.min() < 1e-6
    # truncation branch: slopes 1 and 2, measured between h = 1e-2 and 1e-3
    errors = pictures.difference_errors(np.array([1e-2, 1e-3]))
    assert np.log10(errors["forward"][0] / errors["forward"][1]) == pytest.approx(1.0, abs=0.05)
    assert np.log10(errors["central"][0] / errors["central"][1]) == pytest.approx(2.0, abs=0.05)
    # rounding branch: at tiny h the error is far above the minimum again
    assert central[np.argmin(h)] > 1e3 * central.min()


def test_both_estimators_average_to_the_true_gradient_and_score_is_noisier():
    samples = pictures.estimator_samples()
    exact = 2 * pictures.MU
    for values in samples.values():
        stderr = values.std(ddof=1) / math.sqrt(values.size)
        assert abs(values.mean() - exact) < 4 * stderr
    assert samples["score"].var() > 5 * samples["reparameterization"].var()


def test_ou_envelope_matches_the_closed_form_variance():
    figure = pictures.ou_and_langevin()
    t, upper = _line(figure, "sampled mean ± 2 sd (4000 paths)")
    mean, var = pictures.ou_closed_form(t)
    late = t >= 0.5
    assert np.max(np.abs(upper - (mean + 2 * np.sqrt(var)))[late]) < 0.05
    sampled_sd = (upper - mean) / 2  # the mean is matched to ~σ/√4000, far below the sd
    assert np.allclose(sampled_sd[late] ** 2, var[late], rtol=0.1)


def test_the_ode_sensitivity_agrees_with_finite_differences_and_the_closed_form():
    figure = pictures.ode_sensitivity()
    t, by_autodiff = _line(figure, "forward-mode autodiff through odeint", axes=1)
    assert np.allclose(by_autodiff, -t * np.exp(-0.5 * t), atol=1e-8)
    t, by_differences = _line(figure, "central differences, δ = 1e-5", axes=1)
    assert np.allclose(by_differences, -t * np.exp(-0.5 * t), atol=1e-6)


def test_the_new_pictures_are_written_into_the_chapter_folder(tmp_path):
    for title in ("Stiffness", "Probability by quadrature", "Adaptive quadrature with an honest error",
                  "Differentiating an integral"):
        written = PICTURES[title](tmp_path)
        assert written and all(path.parent == tmp_path and path.stat().st_size > 10_000 for path in written)
    svg = (tmp_path / "stiffness-steps.svg").read_text(encoding="utf-8")
    assert "dopri5 stops: stiff at t" in svg and "rosenbrock23" in svg


@pytest.mark.parametrize("draw", [pictures.gradient_check_v, pictures.leibniz_rule, pictures.ode_sensitivity,
                                  pictures.estimator_histograms, pictures.gradients_through_time])
def test_the_tour_pictures_take_the_house_style(draw):
    from calcml.viz.theme import LEGEND_FONTSIZE

    figure = draw()
    legends = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    assert legends, f"{draw.__name__} has no legend"
    for legend in legends:
        assert min(text.get_fontsize() for text in legend.get_texts()) >= LEGEND_FONTSIZE
    for ax in figure.axes:
        assert ax.title.get_fontsize() >= 11


def test_the_digits_picture_has_test_curves_and_the_confusion_matrix(tmp_path):
    written = PICTURES["A multilayer perceptron on the digits"](tmp_path)
    svg = written[0].read_text(encoding="utf-8")
    for gid in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert f'id="{gid}"' in svg, gid
    assert 'id="test-accuracy"' not in svg  # a curve per epoch, not one point after training
    assert "confusion" in svg
