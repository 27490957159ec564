"""``calcml derive``, ``integrate`` and ``exercise`` through typer's test runner."""

import json

from typer.testing import CliRunner

import calcml.cli.symbolic  # noqa: F401  (registers the commands)
from calcml.cli.app import app

runner = CliRunner()


def test_derive_prints_the_result():
    result = runner.invoke(app, ["derive", "sin(x^2)", "--wrt", "x"])
    assert result.exit_code == 0
    assert "d/dx [sin(x**2)] = 2*x*cos(x**2)" in result.output


def test_derive_with_steps_shows_the_rules():
    result = runner.invoke(app, ["derive", "sigmoid(w*x + b)", "--wrt", "x", "--steps"])
    assert result.exit_code == 0
    assert "chain rule" in result.output and "ml.sigmoid" in result.output


def test_derive_latex_and_json():
    latex = runner.invoke(app, ["derive", "sin(x^2)", "--latex"])
    assert latex.exit_code == 0 and r"2 x \cos{\left(x^{2} \right)}" in latex.output
    payload = json.loads(runner.invoke(app, ["derive", "x^3", "--json"]).output)
    assert payload["result"] == "3*x**2" and payload["steps"]["rule"] == "diff.power"


def test_derive_errors_are_readable_with_exit_code_2():
    result = runner.invoke(app, ["derive", "sin(x", "--wrt", "x"])
    assert result.exit_code == 2
    assert "column 6" in result.output and "Traceback" not in result.output
    attack = runner.invoke(app, ["derive", "__import__('os').system('echo hi')"])
    assert attack.exit_code == 2 and "underscore" in attack.output


def test_integrate_indefinite_and_definite():
    indefinite = runner.invoke(app, ["integrate", "x*exp(x)", "--wrt", "x"])
    assert indefinite.exit_code == 0 and "x*exp(x) - exp(x) + C" in indefinite.output
    definite = runner.invoke(app, ["integrate", "x*exp(x)", "--wrt", "x", "--from", "0", "--to", "1", "--steps"])
    assert definite.exit_code == 0 and "= 1" in definite.output and "fundamental theorem" in definite.output
    half = runner.invoke(app, ["integrate", "x", "--from", "0"])
    assert half.exit_code == 1 and "both --from and --to" in half.output


def test_exercise_reads_the_answer_from_stdin():
    from calcml.exercises import generate

    expected = generate("chain-rule", 1, 3).answer_text
    right = runner.invoke(app, ["exercise", "--topic", "chain-rule", "--seed", "3"], input=expected + "\n")
    assert right.exit_code == 0 and "equivalent" in right.output
    wrong = runner.invoke(app, ["exercise", "--topic", "chain-rule", "--seed", "3"], input="cos(x)\n")
    assert wrong.exit_code == 1 and "not equivalent" in wrong.output and "Expected:" in wrong.output


def test_exercise_without_an_answer_does_not_hang():
    result = runner.invoke(app, ["exercise", "--topic", "integrals", "--seed", "1"], input="")
    assert result.exit_code == 1 and "No answer was given" in result.output


def test_exercise_answer_option_and_unknown_topic():
    ok = runner.invoke(app, ["exercise", "-t", "limits", "-s", "0", "--answer", "4", "--solution"])
    assert "lim" in ok.output
    bad = runner.invoke(app, ["exercise", "--topic", "topology"])
    assert bad.exit_code == 1 and "power-rule" in bad.output


def test_integrate_numeric_matches_the_closed_form():
    import math

    from typer.testing import CliRunner

    from calcml.cli.app import app

    result = CliRunner().invoke(app, ["integrate", "x*sin(30*x)", "--from", "0", "--to", "2*pi", "--numeric"])
    assert result.exit_code == 0, result.output
    value = float(result.output.split("≈")[1].split()[0])
    assert abs(value - (-math.pi / 15)) < 1e-10
    missing = CliRunner().invoke(app, ["integrate", "x", "--numeric"])
    assert missing.exit_code == 1 and "--from" in missing.output
