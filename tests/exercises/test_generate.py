"""Exercises are reproducible, every topic works at every difficulty, and reference answers check out."""

import pytest

from calcml.exercises import NOT_EQUIVALENT, TOPICS, generate

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
