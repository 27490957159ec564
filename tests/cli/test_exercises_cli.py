"""``calcml exercise`` and ``calcml exercises topics | ask | worksheet`` through typer's test runner."""

import json

from typer.testing import CliRunner

import calcml.cli.exercises  # noqa: F401  (registers the commands)
from calcml.cli.app import app
from calcml.exercises import CHAPTERS, for_chapter, generate

runner = CliRunner()


def test_exercise_reads_the_answer_from_stdin():
    expected = generate("chain-rule", 1, 3).answer_text
    right = runner.invoke(app, ["exercise", "--topic", "chain-rule", "--seed", "3"], input=expected + "\n")
    assert right.exit_code == 0 and "correct" in right.output
    wrong = runner.invoke(app, ["exercise", "--topic", "chain-rule", "--seed", "3"], input="cos(x)\n")
    assert wrong.exit_code == 1 and "wrong" in wrong.output and "Expected:" in wrong.output


def test_exercise_without_an_answer_does_not_hang():
    result = runner.invoke(app, ["exercise", "--topic", "integrals", "--seed", "1"], input="")
    assert result.exit_code == 1 and "No answer was given" in result.output


def test_exercise_answer_option_and_unknown_topic():
    ok = runner.invoke(app, ["exercise", "-t", "limits", "-s", "0", "--answer", "4", "--solution"])
    assert "lim" in ok.output
    bad = runner.invoke(app, ["exercise", "--topic", "topology"])
    assert bad.exit_code == 2 and "power-rule" in bad.output and "adam" in bad.output


def test_ask_shows_math_notation_and_the_four_outcomes():
    prompt = runner.invoke(app, ["exercises", "ask", "-t", "chain-rule", "-s", "3", "--answer", "28x(2x^2+1)^6"])
    assert prompt.exit_code == 0 and "(2x² + 1)⁷" in prompt.output and "**" not in prompt.output
    assert "correct" in prompt.output
    malformed = runner.invoke(app, ["exercises", "ask", "-t", "chain-rule", "-s", "3", "--answer", "28x + banana"])
    assert malformed.exit_code == 1 and "malformed" in malformed.output and "column 7" in malformed.output
    assert "unknown name 'banana'" in malformed.output


def test_ask_accepts_decimals_and_tolerance():
    exercise = generate("adam", 1, 2)
    value = float(exercise.expected)
    rounded = runner.invoke(app, ["exercises", "ask", "-t", "adam", "-s", "2", "--answer", f"{value:.5g}"])
    assert rounded.exit_code == 0, rounded.output
    rough = f"{value * 1.001:.6g}"
    refused = runner.invoke(app, ["exercises", "ask", "-t", "adam", "-s", "2", "--answer", rough])
    assert refused.exit_code == 1 and "wrong" in refused.output
    allowed = runner.invoke(app, ["exercises", "ask", "-t", "adam", "-s", "2", "--answer", rough,
                                  "--tolerance", "0.01"])
    assert allowed.exit_code == 0 and "tolerance" in allowed.output


def test_ask_json_has_the_outcome_hint_and_column():
    result = runner.invoke(app, ["exercises", "ask", "-t", "power-rule", "-s", "1", "--json", "--answer", "x +"])
    payload = json.loads(result.output)
    assert result.exit_code == 1 and payload["outcome"] == "malformed" and payload["column"] == 4
    assert payload["chapter"] == 2 and payload["correct"] is False


def test_topics_by_chapter():
    listing = runner.invoke(app, ["exercises", "topics"])
    assert listing.exit_code == 0 and len(listing.output.splitlines()) == len(CHAPTERS)
    assert "12 momentum, AdaGrad, RMSProp, Adam: momentum, adagrad, rmsprop, adam" in listing.output
    one = json.loads(runner.invoke(app, ["exercises", "topics", "--chapter", "10", "--json"]).output)
    assert one == {"10": {"title": CHAPTERS[10], "topics": list(for_chapter(10))}}
    bad = runner.invoke(app, ["exercises", "topics", "--chapter", "21"])
    assert bad.exit_code == 2 and "1 to 20" in bad.output


def test_worksheet_writes_html_and_latex_with_keys(tmp_path):
    result = runner.invoke(app, ["exercises", "worksheet", "--topics", "softmax-cross-entropy,adam", "--seed", "5",
                                 "--difficulty", "2", "--no-pdf", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["worksheet-key.html", "worksheet-key.tex", "worksheet.html", "worksheet.tex"]
    key = (tmp_path / "worksheet-key.html").read_text()
    for topic in ("softmax-cross-entropy", "adam"):
        assert generate(topic, 2, 5).answer_text in key.replace("&#x27;", "'")
    assert generate("adam", 2, 5).answer_text not in (tmp_path / "worksheet.html").read_text()


def test_worksheet_refuses_bad_arguments(tmp_path):
    both = runner.invoke(app, ["exercises", "worksheet", "--chapter", "3", "--topics", "limits",
                               "--out", str(tmp_path)])
    assert both.exit_code == 2 and "not both" in both.output
    unknown = runner.invoke(app, ["exercises", "worksheet", "--topics", "topology", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown topic" in unknown.output
