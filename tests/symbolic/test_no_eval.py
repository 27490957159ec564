"""No string is ever evaluated: an AST scan of the whole package for calls that run or sympify text.

``eval``/``exec``/``compile``/``__import__`` and SymPy's ``sympify``/``S``/``parse_expr`` are allowed only on
literals (``sp.S(1)``); ``N`` and ``lambdify`` never on a string literal; ``sympy.parsing`` is never
imported. Every path from user text to SymPy goes through calcml's parser instead.
"""

import ast
from pathlib import Path

import pytest

import calcml

PACKAGE = Path(calcml.__file__).parent
EVALUATING = {"eval", "exec", "compile", "__import__", "sympify", "S", "parse_expr", "parse_latex"}
NEVER_ON_TEXT = {"N", "lambdify", "Matrix", "Symbol", "symbols"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


def offences(source: str, filename: str = "<source>") -> list[str]:
    """Each call that could evaluate a string, as 'file:line: text'."""
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = getattr(node, "module", None) or ""
            names = [alias.name for alias in node.names]
            if module.startswith("sympy.parsing") or any(n.startswith("sympy.parsing") for n in names) or (
                "parse_expr" in names or "sympify" in names
            ):
                found.append(f"{filename}:{node.lineno}: imports {module or names}")
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        arguments = list(node.args) + [k.value for k in node.keywords]
        if isinstance(node.func, ast.Attribute) and name == "eval" and not arguments:
            continue  # a method named eval (Module.eval(), a manualintegrate rule's eval())
        if name in EVALUATING and not all(_is_literal(a) for a in arguments):
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)[:80]}")
        elif name in NEVER_ON_TEXT and any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
            if name in ("Symbol", "symbols"):
                continue  # a Symbol's name is not parsed as code
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_the_scanner_finds_what_it_looks_for():
    bad = "import sympy as sp\nsp.sympify(text)\neval(code)\nsp.S(user)\nsp.N('2+2')\nsp.lambdify(x, 'x**2')\n"
    assert len(offences(bad)) == 5
    assert offences("from sympy.parsing.sympy_parser import parse_expr\n")
    assert offences("sp.S(1) + sp.S.Half\nself.eval()\nrule.eval()\nsp.N(expr, 20)\n") == []


def test_the_package_never_evaluates_a_string():
    found = []
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 50 and PACKAGE / "symbolic" / "parser.py" in paths
    for path in paths:
        found += offences(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert found == [], "calls that could evaluate text:\n" + "\n".join(found)


@pytest.mark.parametrize("kind", ["points", "vector", "matrix", "expression", "antiderivative"])
def test_the_checker_reads_expected_answers_with_the_parser(kind, tmp_path):
    """The hole found in issue 11: expected points reached sympify and ran code."""
    from calcml.exercises import check
    from calcml.symbolic import ParseError

    marker = tmp_path / "F"
    attack = f"__import__('os').system('touch {marker}')"
    expected = {"points": [[attack, "0"]], "vector": [attack, "x"], "matrix": [[attack]]}.get(kind, attack)
    with pytest.raises(ParseError, match="underscore"):
        check("(0, 0)" if kind == "points" else "x", expected, kind=kind, var="x")
    assert not marker.exists()
