"""The learning chapters of the tour (10–15) show what they claim: traced graphs, the optimizers' update
equations, unbiased mini-batch gradients."""

from calcml.tour import backprop, descent


def test_two_layer_chapter_shows_the_traced_graph():
    lines = "\n".join(backprop.two_layer_network().lines)
    assert "v5 = v4 + v1" in lines and "∂L/∂v0" in lines


def test_each_optimizers_first_step_is_checked_against_its_update_equation():
    section = descent.first_steps()
    assert [row[0] for row in section.tables[0].rows] == ["SGD", "momentum 0.9", "AdaGrad", "RMSProp (ρ = 0.99)",
                                                          "Adam"]
    assert len(section.checks) == 5 and section.passed


def test_regression_by_gradient_descent_meets_the_normal_equations():
    section = descent.regression_by_gradient_descent()
    assert section.passed and section.tables and len(section.checks) == 4


def test_minibatch_gradients_average_to_the_batch_gradient():
    section = descent.minibatch_gradients()
    assert section.passed and len(section.checks) == 3
