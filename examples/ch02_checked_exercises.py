"""Chapter 2 — Exercises with checked answers: generate a problem, answer it, get a verdict you can trust.

    python examples/ch02_checked_exercises.py          # full run
    python examples/ch02_checked_exercises.py --fast   # CI settings (the same: it is small)

``cm.exercises.generate(topic, difficulty, seed)`` makes a reproducible problem with its worked solution,
computed by calcml.symbolic and checked independently. ``check(answer, expected)`` decides whether two
answers are the same mathematical object: symbolically when SymPy can prove it, otherwise numerically at
random points — and when they differ it names a counterexample.

What to look at: answers written in another form (expanded, factored, with a different constant) accepted;
typical mistakes (a forgotten inner derivative) rejected with the point where they fail; and log(x²) vs
2·log(x), which agree only for x > 0 — the picture shows where they part.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import sympy as sp

import calcml as cm


def generated_chapter() -> None:
    print("1. One exercise per topic (difficulty 2, seed 1); the expected answer rewritten, then checked")
    accepted = 0
    for topic in cm.exercises.TOPICS:
        ex = cm.exercises.generate(topic, difficulty=2, seed=1)
        answer = ex.answer_text
        if ex.kind in ("derivative", "antiderivative") and isinstance(ex.expected, sp.Expr):
            rewritten = sp.sstr(sp.expand(ex.expected))  # the same derivative, multiplied out
            answer = rewritten + (" + 7" if ex.kind == "antiderivative" else "")  # any constant will do
        verdict = ex.check(answer).verdict
        accepted += verdict == cm.exercises.EQUIVALENT
        print(f"   [{topic}] {ex.prompt}")
        print(f"      answer: {answer[:90]}{'…' if len(answer) > 90 else ''}  → {verdict}")
    print(f"   {accepted}/{len(cm.exercises.TOPICS)} expected answers checked as equivalent")


def mistakes_chapter() -> None:
    print("\n2. Typical mistakes, and what the checker says")
    cases = [
        ("cos(x^2)", "2*x*cos(x^2)", "d/dx sin(x²): forgot the inner derivative"),
        ("x^2*exp(x)", "2*x*exp(x) + x^2*exp(x)", "d/dx x²eˣ: forgot a term of the product rule"),
        ("sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))^2", "σ′ in another form: fine"),
        ("log(x^2)", "2*log(x)", "a 'simplification' that is wrong for x < 0"),
    ]
    for answer, expected, story in cases:
        result = cm.exercises.check(answer, expected)
        print(f"   {story}\n      {answer}  vs  {expected}:  {result.verdict} — {result.feedback}")

    print("\n3. A worked solution, step by step")
    ex = cm.exercises.generate("chain-rule", difficulty=2, seed=3)
    print(f"   {ex.prompt}")
    print("   " + ex.solution_text().replace("\n", "\n   "))


def draw(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(-3, 3, 601)
    x = x[x != 0]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(x, np.log(x**2), lw=3, label="log(x²), defined for x ≠ 0")
    positive = x[x > 0]
    ax.plot(positive, 2 * np.log(positive), "--", lw=2, label="2·log(x), defined for x > 0 only")
    ax.axvspan(-3, 0, color="#d62728", alpha=0.08, label="where they differ: not equivalent on ℝ")
    ax.set(title="check('log(x^2)', '2*log(x)'): not equivalent, counterexample at x < 0", xlabel="x",
           ylim=(-5, 3))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Exercises with checked answers.")
    parser.add_argument("--fast", action="store_true", help="accepted for the gallery; the example is small")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for checked_exercises.png")
    args = parser.parse_args(argv)
    generated_chapter()
    mistakes_chapter()
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "checked_exercises.png")


if __name__ == "__main__":
    main()
