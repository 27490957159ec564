"""Exercises are reproducible, every topic works at every difficulty, and reference answers check out."""

import re

import pytest
import sympy as sp

from calcml.exercises import CHAPTERS, NOT_EQUIVALENT, TOPICS, chapter_of, for_chapter, generate
from calcml.exercises.notation import latex_text, unicode_math

CASES = [(topic, level) for topic in TOPICS for level in (1, 2, 3)]


@pytest.mark.parametrize("topic, level", CASES)
def test_every_topic_and_difficulty_gives_a_checked_problem(topic, level):
    exercise = generate(topic, level, seed=level)
    assert exercise.prompt and exercise.topic == topic
    assert exercise.check(exercise.answer_text).correct
    assert exercise.solution_text()


def test_same_seed_same_problem_other_seed_other_problem():
    a, b = generate("chain-rule", 2, seed=3), generate("chain-rule", 2, seed=3)
    assert a.prompt == b.prompt and a.expected == b.expected
    prompts = {generate("chain-rule", 2, seed=s).prompt for s in range(6)}
    assert len(prompts) > 1


def test_wrong_answers_are_caught():
    exercise = generate("power-rule", 1, seed=0)
    assert exercise.check(str(exercise.question)).verdict == NOT_EQUIVALENT
    derivative = generate("integrals", 1, seed=0)
    assert not derivative.check("0").correct


def test_difficulty_names_and_errors():
    assert generate("limits", "hard", seed=1).difficulty == 3
    assert generate("partial_derivatives", seed=1).topic == "partial-derivatives"
    with pytest.raises(ValueError, match="unknown topic"):
        generate("topology")
    with pytest.raises(ValueError, match="difficulty"):
        generate("limits", 7)


CLASSIC = {"limits", "power-rule", "product-rule", "quotient-rule", "chain-rule", "partial-derivatives", "gradients",
           "hessians", "critical-points", "integrals"}
REQUIRED = {  # the list: losses, softmax/CE, a 2-layer backward pass, each optimizer, Jacobians, ...
    "losses", "softmax-cross-entropy", "two-layer-network", "gradient-descent", "momentum", "adagrad", "rmsprop",
    "adam", "jacobians", "directional-derivatives", "expectations", "bayesian-updates", "gradient-flow",
    "activation-chain-rule", "vanishing-gradients", "convolution",
}


def test_the_ml_topics_are_there_and_every_chapter_has_exercises():
    assert CLASSIC <= set(TOPICS) and REQUIRED <= set(TOPICS)
    assert len(set(TOPICS) - CLASSIC) >= 12
    assert sorted(CHAPTERS) == list(range(1, 21))
    for chapter in CHAPTERS:
        assert for_chapter(chapter), f"chapter {chapter} has no exercises"
    assert sorted(t for n in CHAPTERS for t in for_chapter(n)) == sorted(TOPICS)


@pytest.mark.parametrize("topic", sorted(set(TOPICS) - CLASSIC))
def test_ml_topics_are_reproducible_and_tagged_with_their_chapter(topic):
    a, b = generate(topic, 2, seed=7), generate(topic, 2, seed=7)
    assert a.prompt == b.prompt and a.answer_text == b.answer_text
    assert a.chapter == chapter_of(topic) and topic in for_chapter(a.chapter)
    assert len({generate(topic, 2, seed=s).prompt for s in range(5)}) > 1


def test_for_chapter_refuses_what_is_not_a_chapter():
    assert for_chapter(12) == ("momentum", "adagrad", "rmsprop", "adam")
    for bad in (0, 21, "3", 2.0, True):
        with pytest.raises(ValueError, match="chapter must be a whole number from 1 to 20"):
            for_chapter(bad)


@pytest.mark.parametrize("topic, level", CASES)
def test_prompts_are_in_mathematical_notation(topic, level):
    exercise = generate(topic, level, seed=level)
    assert not re.search(r"\*\*|[\w)]\s*\*\s*[\w(]", exercise.prompt), exercise.prompt  # no x**3, no 2*x
    latex = exercise.latex_prompt()
    assert latex.isascii(), latex  # pdflatex-safe: every symbol spelled in LaTeX
    assert latex.count("$") % 2 == 0 and latex.count("{") == latex.count("}")
    html = exercise.html_prompt()
    if any(not isinstance(s, str) for s in exercise.segments):
        assert "<math" in html
    assert exercise.solution_latex().isascii() and exercise.answer_latex().isascii()


def test_answers_come_as_numbers_expressions_vectors_and_matrices():
    kinds = {generate(topic, 2, seed=0).kind for topic in set(TOPICS) - CLASSIC}
    assert {"value", "vector", "matrix"} <= kinds and kinds & {"expression", "derivative"}


def test_notation_examples():
    x = sp.Symbol("x")
    assert unicode_math(x**3) == "x³" and unicode_math(2 * x**2 + 1) == "2x² + 1"
    assert unicode_math(sp.exp(-x) / (1 + sp.exp(-x))) == "exp(−x)/(1 + exp(−x))"
    assert unicode_math(sp.Rational(-3, 4) * x) == "−3x/4"
    assert latex_text("∂L/∂w₁ = ½(ŷ − y)²") == (r"\ensuremath{\partial}L/\ensuremath{\partial}w\ensuremath{_{1}} = "
                                                r"\ensuremath{\tfrac{1}{2}}(\ensuremath{\hat{y}} \ensuremath{-} y)"
                                                r"\ensuremath{^{2}}")
    with pytest.raises(ValueError, match="no LaTeX spelling"):
        latex_text("☃")
