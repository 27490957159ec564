"""Every topic, tagged with its chapter of the book; ``for_chapter(n)`` lists a chapter's topics.

>>> for_chapter(12)
('momentum', 'adagrad', 'rmsprop', 'adam')
>>> chapter_of("softmax-cross-entropy")
10
"""

from __future__ import annotations

from calcml.exercises import (
    topics_calculus,
    topics_classic,
    topics_learning,
    topics_networks,
    topics_optimizers,
    topics_probability,
)
from calcml.exercises.exercise import Topic

CHAPTERS = {
    1: "limits and continuity",
    2: "derivative rules",
    3: "partial derivatives, gradients, directional derivatives",
    4: "the chain rule as backpropagation",
    5: "Jacobians, Hessians, Newton's method",
    6: "critical points and convexity",
    7: "integrals",
    8: "probability by integration",
    9: "ODEs, gradient flow, neural ODEs",
    10: "losses and their derivatives",
    11: "gradient descent: batch, stochastic, mini-batch",
    12: "momentum, AdaGrad, RMSProp, Adam",
    13: "backpropagation in matrix form",
    14: "a 2-layer network step by step",
    15: "activation derivatives, vanishing and exploding gradients",
    16: "convolutional networks",
    17: "recurrent networks and backpropagation through time",
    18: "digit classification",
    19: "loss surfaces",
    20: "policy gradients, stochastic calculus, parameter shift",
}

_ALL: tuple[Topic, ...] = tuple(sorted(
    topics_classic.TOPICS + topics_calculus.TOPICS + topics_probability.TOPICS + topics_learning.TOPICS
    + topics_optimizers.TOPICS + topics_networks.TOPICS,
    key=lambda topic: topic.chapter,
))
BY_NAME: dict[str, Topic] = {topic.name: topic for topic in _ALL}
TOPICS: tuple[str, ...] = tuple(BY_NAME)


def topic(name: str) -> Topic:
    """The topic called ``name`` ("chain_rule" and "Chain-Rule" read as "chain-rule"); ValueError naming the
    known topics otherwise."""
    if not isinstance(name, str):
        raise ValueError(f"the topic must be a name, one of: {', '.join(TOPICS)}; got {name!r}")
    key = name.replace("_", "-").lower()
    if key not in BY_NAME:
        raise ValueError(f"unknown topic {name!r}; choose one of: {', '.join(TOPICS)}")
    return BY_NAME[key]


def chapter_of(name: str) -> int:
    """The chapter of the book that the topic ``name`` belongs to."""
    return topic(name).chapter


def for_chapter(chapter: int) -> tuple[str, ...]:
    """The topics of ``chapter`` (1-20, see ``CHAPTERS``), in the order they are taught."""
    if isinstance(chapter, bool) or not isinstance(chapter, int) or chapter not in CHAPTERS:
        raise ValueError(f"chapter must be a whole number from 1 to {max(CHAPTERS)}; got {chapter!r}")
    return tuple(t.name for t in _ALL if t.chapter == chapter)
