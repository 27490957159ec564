"""A small, safe reader for math typed by people: tokens → recursive descent → SymPy.

Grammar (lowest to highest precedence)::

    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/" | <implicit>) unary)*      2x, x(x+1), (x+1)(x-1), 2 sin(x)
    unary   := ("+" | "-") unary | power
    power   := atom (("^" | "**") unary)?                   right-associative: 2^3^2 = 2^9
    atom    := number | name | function "(" args ")" | "(" sum ")"

Only whitelisted functions are known (SymPy's spellings Abs, Max, Min too, so printed results
read back); every other name is a real-valued symbol. ``pi``, ``e``
and ``oo`` (also ``inf``) are constants. Decimal numbers become exact rationals (0.1 = 1/10).
Nothing is ever passed to ``eval``, ``sympify`` or ``parse_expr``: the parser builds SymPy
objects itself. Length, nesting depth, literal size, exponent size, the digits of any number
built on the way (coefficients of powers of products included) and the size of numbers under a
root are bounded, so ``9**9**9`` or ``(((3x)^1000)^1000)^100`` are refused in microseconds rather
than computed: parsing is cheap enough to run in the caller's process.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.errors import ParseError
from calcml.symbolic.ml_functions import logsumexp, relu, sigmoid, softmax, softplus

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_EXPONENT = 1000
MAX_DIGITS = 40
MAX_RESULT_DIGITS = 4000  # below Python's 4,300-digit limit on printing integers
MAX_ROOT_DIGITS = 60  # SymPy looks for exact roots by factoring: seconds for a 1,000-digit number

_UNARY: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sec": sp.sec,
    "csc": sp.csc,
    "cot": sp.cot,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "exp": sp.exp,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "sign": sp.sign,  # as calcml prints d/dx |x|, so that a learner can type it back
    "sigmoid": sigmoid,
    "relu": relu,
    "softplus": softplus,
}
_RESTRICTED = {"ln", "sqrt", "arcsin", "arccos", "asin", "acos"}  # real only on part of ℝ (log too)
_VARIADIC = {"log", "max", "min", "Max", "Min", "softmax", "logsumexp"}
FUNCTIONS = tuple(sorted(set(_UNARY) | _VARIADIC))
CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E, "oo": sp.oo, "inf": sp.oo}
NOT_NUMBERS = {"nan", "zoo"}  # refused rather than read as variables named "nan"

_FORBIDDEN_WORDS = frozenset(keyword.kwlist) | {"eval", "exec", "open", "compile", "getattr", "globals"}
_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),;])"
)
_EXPLAINED = {
    "_": "names may not start with an underscore",
    ".": "attribute access is not allowed; only numbers may contain a dot",
    "[": "brackets are not allowed; use parentheses ( )",
    "]": "brackets are not allowed; use parentheses ( )",
    "{": "braces are not allowed; use parentheses ( )",
    "}": "braces are not allowed; use parentheses ( )",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    ":": "':' is not part of a math expression (no lambdas or slices)",
    "=": "'=' is not allowed: give an expression, not an equation or assignment",
    "|": "use abs(x) for |x|",
    "!": "factorials are not supported",
}


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "name" | "op" | "end"
    text: str
    column: int  # 1-based


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise ParseError at the first character that is not allowed."""
    if not isinstance(text, str):
        raise TypeError(f"expected the expression as a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"input is {len(text)} characters long (limit {MAX_LENGTH})", text[:200], 1)
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            char = text[pos]
            reason = _EXPLAINED.get(char, f"unexpected character {char!r}")
            raise ParseError(reason, text, pos + 1)
        kind = match.lastgroup
        if kind == "name" and match.group() in _FORBIDDEN_WORDS:
            raise ParseError(f"{match.group()!r} is not allowed in a math expression", text, pos + 1)
        if kind != "space":
            tokens.append(Token(kind, match.group(), pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def did_you_mean(word: str) -> str:
    """'; did you mean sigmoid?' when ``word`` is close to a known function name (difflib), else ''.

    >>> did_you_mean("sigmod")
    '; did you mean sigmoid?'
    >>> did_you_mean("Sin"), did_you_mean("foo")
    ('; did you mean sin?', '')
    """
    by_lower = {name.lower(): name for name in FUNCTIONS}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f"; did you mean {by_lower[close[0]]}?" if close else ""


def _digits(value: sp.Expr) -> float:
    """Roughly how many decimal digits the numerator and denominator of a rational have."""
    p, q = sp.fraction(value)
    return sum(math.log10(abs(int(v))) + 1 for v in (p, q) if abs(v) > 1)


def _short(number: sp.Expr) -> str:
    """A number as text, or "(a number of N digits)" when it is long."""
    if not number.is_Rational or _digits(number) < 30:
        return str(number)
    if number.is_Integer:
        return f"(a number of {int(math.log10(abs(int(number)))) + 1} digits)"
    return f"(a fraction of {_digits(number):.0f} digits)"


class _Parser:
    def __init__(self, text: str, symbols: dict[str, sp.Symbol] | None) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.symbols = symbols if symbols is not None else {}
        self.restricted: list[sp.Expr] = []  # logs, roots, arcsin/arccos as written (see restricted_parts)

    # -- token helpers -------------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, message: str, token: Token | None = None, hint: str = "") -> ParseError:
        token = token or self.current
        return ParseError(message, self.text, token.column, hint)

    def expect(self, op: str, opened: Token | None = None) -> Token:
        if self.current.kind == "op" and self.current.text == op:
            return self.advance()
        found = "the end of the input" if self.current.kind == "end" else repr(self.current.text)
        hint = f"the '(' at column {opened.column} is not closed" if opened and op == ")" else ""
        raise self.fail(f"expected {op!r} but found {found}", hint=hint)

    def is_op(self, *ops: str) -> bool:
        return self.current.kind == "op" and self.current.text in ops

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> sp.Expr:
        if self.current.kind == "end":
            raise self.fail("the expression is empty")
        expr = self.sum()
        if self.current.kind != "end":
            raise self.fail(f"unexpected {self.current.text!r} after a complete expression")
        complex_part = next((part for part in sp.preorder_traversal(expr)
                             if not part.free_symbols and part.is_extended_real is False and part.is_finite), None)
        if complex_part is not None:  # √(−½) is (√2/2)·i, printed with an I that reads back as a variable
            raise self.fail(f"{sp.sstr(complex_part)} is not a real number: a root or logarithm of a negative "
                            "number", self.tokens[0],
                            hint="calcml's calculus is over the real numbers; check the signs inside roots and logs "
                                 "(SymPy's (−8)^(1/3) is the complex principal root, not −2)")
        return expr

    def sum(self) -> sp.Expr:
        left = self.product()
        while self.is_op("+", "-"):
            op = self.advance().text
            right = self.product()
            left = self.check_size(left + right if op == "+" else left - right, self.current)
        return left

    def starts_atom(self) -> bool:
        token = self.current
        return token.kind in ("number", "name") or (token.kind == "op" and token.text == "(")

    def product(self) -> sp.Expr:
        left = self.unary()
        while self.is_op("*", "/") or self.starts_atom():
            op = self.advance().text if self.is_op("*", "/") else "*"
            token = self.current
            right = self.unary()
            if op == "/":
                if right.is_zero:
                    raise self.fail("division by zero", token)
                left = left / right
            else:
                left = left * right
            left = self.check_size(left, token)
        return left

    def unary(self) -> sp.Expr:
        if self.is_op("+", "-"):
            op = self.advance().text
            self.deeper()
            operand = self.unary()
            self.depth -= 1
            return -operand if op == "-" else operand
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        if not self.is_op("^", "**"):
            return base
        caret = self.advance()
        self.deeper()
        exponent_token = self.current
        exponent = self.unary()
        self.depth -= 1
        self.check_power(base, exponent, exponent_token, caret)
        value = sp.Pow(base, exponent)
        if not exponent.is_Integer:
            self.restricted.append(value)
        return value

    def check_power(self, base: sp.Expr, exponent: sp.Expr, token: Token, caret: Token) -> None:
        if exponent.is_number and exponent.is_Rational and abs(exponent) > MAX_EXPONENT:
            raise self.fail(f"exponent {exponent} is too large (limit {MAX_EXPONENT})", token)
        if base.is_zero and exponent.is_number and exponent.is_negative:
            raise self.fail("division by zero (0 to a negative power)", caret)
        if not (exponent.is_Rational and base != 0):
            return
        if base.is_Rational:
            if not exponent.is_Integer and _digits(base) > MAX_ROOT_DIGITS:  # SymPy factors it: slow
                raise self.fail(
                    f"a root of a number with more than {MAX_ROOT_DIGITS} digits is not supported "
                    f"(here {_short(base)}^({exponent}))",
                    caret,
                )
            if _digits(base) * abs(float(exponent)) > MAX_RESULT_DIGITS:
                raise self.fail(
                    f"the number {_short(base)}^{exponent} would have more than {MAX_RESULT_DIGITS} digits", caret
                )
            return
        # (3x)^1000 is 3^1000·x^1000: SymPy computes the coefficients of a power of a product at once
        for factor in sp.Mul.make_args(base):
            number, power = factor.as_base_exp() if factor.is_Pow else (factor, sp.Integer(1))
            if number.is_Rational and _digits(number) * abs(float(exponent * power)) > MAX_RESULT_DIGITS:
                raise self.fail(
                    f"the coefficient {_short(number)}^{exponent * power} of this power would have more "
                    f"than {MAX_RESULT_DIGITS} digits",
                    caret,
                )

    def check_size(self, value: sp.Expr, token: Token) -> sp.Expr:
        """Refuse a sum or product whose numbers grew past MAX_RESULT_DIGITS (2^13000·2^13000·...)."""
        for number in value.atoms(sp.Rational) if value.is_Add or value.is_Mul or value.is_Rational else ():
            if _digits(number) > MAX_RESULT_DIGITS:
                raise self.fail(f"a number in this expression would have more than {MAX_RESULT_DIGITS} digits", token)
        return value

    def atom(self) -> sp.Expr:
        token = self.current
        if token.kind == "number":
            self.advance()
            return self.number(token)
        if token.kind == "name":
            self.advance()
            return self.name(token)
        if self.is_op("("):
            self.advance()
            self.deeper()
            inner = self.sum()
            self.expect(")", token)
            self.depth -= 1
            return inner
        if token.kind == "end":
            raise self.fail("the expression ends too early", hint="something is missing after the last operator")
        raise self.fail(f"unexpected {token.text!r}")

    def number(self, token: Token) -> sp.Expr:
        mantissa = re.split("[eE]", token.text)[0].replace(".", "").lstrip("0")
        if len(mantissa) > MAX_DIGITS:
            raise self.fail(f"number literal has more than {MAX_DIGITS} digits", token)
        if re.search("[eE]", token.text):
            exponent = int(re.split("[eE]", token.text)[1])
            if abs(exponent) > MAX_EXPONENT:
                raise self.fail(f"exponent {exponent} is too large (limit {MAX_EXPONENT})", token)
        return sp.Rational(token.text)

    def name(self, token: Token) -> sp.Expr:
        word = token.text
        if word in _UNARY or word in _VARIADIC:
            power = self.power_before_call(token) if word in _UNARY else None
            if power is not None:
                return sp.Pow(self.call(token), power)
            if not self.is_op("("):
                hint = f"write {word}(x)^2 for {word}²(x)" if self.is_op("^", "**") else f"write {word}(x)"
                raise self.fail(f"{word} needs parentheses", token, hint=hint)
            return self.call(token)
        if word in CONSTANTS:
            return CONSTANTS[word]
        if word.lower() in NOT_NUMBERS:
            raise self.fail(f"{word} (not a number) is not a value calcml can compute with", token,
                            hint="give a finite number, or oo / -oo for an infinite bound")
        if len(word) > 1 and self.is_op("("):
            raise self.fail(
                f"unknown function {word!r}{did_you_mean(word)}",
                token,
                hint=f"known functions: {', '.join(FUNCTIONS)}; for a product write {word}*(...)",
            )
        if len(word) > 32:
            raise self.fail("name is longer than 32 characters", token)
        if word not in self.symbols:
            self.symbols[word] = sp.Symbol(word, real=True)
        return self.symbols[word]

    def power_before_call(self, name: Token) -> sp.Expr | None:
        """The textbook sin²(x): ``sin^2(x)`` or ``sin^(2)(x)`` is sin(x)^2, for a whole power from 2 to 9 (the
        tokens are consumed); None when the name is not followed by such a power and '('. sin^-1(x) is refused:
        it means arcsin in some books and 1/sin in others."""
        ahead = [t.text if t.kind != "end" else "" for t in self.tokens[self.index:self.index + 5]]
        if not ahead or ahead[0] not in ("^", "**"):
            return None
        if ahead[1] == "-" or ahead[1:3] == ["(", "-"]:
            word = name.text
            raise self.fail(f"{word}^-1 is ambiguous", name,
                            hint=f"write a{word}(x) for the inverse function or 1/{word}(x) for the reciprocal")
        wrapped = ahead[1] == "(" and ahead[3] == ")"
        number, after = (ahead[2], ahead[4]) if wrapped else (ahead[1], ahead[2])
        if not (len(number) == 1 and number in "23456789" and after == "("):
            return None
        self.index += 4 if wrapped else 2
        return sp.Integer(number)

    def call(self, name: Token) -> sp.Expr:
        opened = self.advance()
        self.deeper()
        args = [self.sum()]
        while self.is_op(","):
            self.advance()
            args.append(self.sum())
        self.expect(")", opened)
        self.depth -= 1
        return self.apply(name, args)

    def apply(self, name: Token, args: list[sp.Expr]) -> sp.Expr:
        word = name.text
        if word in _UNARY:
            if len(args) != 1:
                raise self.fail(f"{word} takes one argument, got {len(args)}", name)
            if word == "sqrt":
                self.check_power(args[0], sp.Rational(1, 2), name, name)
            value = _UNARY[word](args[0])
            if word in _RESTRICTED:
                self.restricted.append(value)
            return value
        if word == "log":
            self.restricted.extend(sp.log(a) for a in args)
            if len(args) == 1:
                return sp.log(args[0])
            if len(args) == 2:
                return sp.log(args[0], args[1])
            raise self.fail("log takes one argument (natural log) or two: log(x, base)", name)
        if word in ("max", "min", "Max", "Min"):
            if len(args) < 2:
                raise self.fail(f"{word} needs at least two arguments", name)
            return (sp.Max if word.lower() == "max" else sp.Min)(*args)
        if word == "logsumexp":
            return logsumexp(*args)
        k = args[0] if args else None
        if len(args) < 3 or not (k.is_Integer and 1 <= k <= len(args) - 1):
            raise self.fail(
                "softmax needs an output index then the logits: softmax(k, z1, ..., zn), 1 <= k <= n",
                name,
                hint="e.g. softmax(1, a, b, c) = exp(a)/(exp(a) + exp(b) + exp(c))",
            )
        return softmax(*args)


def parse(text: str, symbols: dict[str, sp.Symbol] | None = None) -> sp.Expr:
    """Read a math expression typed by a person into a SymPy expression, safely.

    Allowed: numbers, names, + - * / ^ **, parentheses, implicit products (2x, x(x+1)) and the
    functions in ``FUNCTIONS``. Names become real symbols; ``symbols`` (name → Symbol) is reused
    and filled in, so several strings can share symbols.

    >>> parse("2x^2 + sin(x)")
    2*x**2 + sin(x)

    Raises ParseError naming the problem and its column.
    """
    return _Parser(text, symbols).parse()


def restricted_parts(text: str, symbols: dict[str, sp.Symbol] | None = None) -> tuple[sp.Expr, ...]:
    """The pieces of ``text`` as written that are real only on part of ℝ: logarithms, roots and other
    non-integer powers, arcsin and arccos. SymPy may simplify them away — exp(log(x)) is built as x — but
    the expression as written is real only where each of them is (here x > 0).

    >>> restricted_parts("exp(log(x)) + sqrt(x + 1)^2")
    (log(x), sqrt(x + 1))
    """
    parser = _Parser(text, symbols)
    parser.parse()
    return tuple(part for part in parser.restricted if part.free_symbols)


def parse_rows(text: str, symbols: dict[str, sp.Symbol] | None = None) -> list[list[sp.Expr]]:
    """Read a vector, matrix or list of points: rows separated by ';', entries by ','.

    Each row may be wrapped in parentheses: ``"(0, 0); (1, -1)"``, ``"2x, 3y"``, ``"2, 0; 0, 2"``.
    """
    tokenize(text)  # reject bad characters before splitting
    rows = []
    column = 1
    for chunk in _split_top_level(text, ";"):
        stripped = chunk.strip()
        offset = column + len(chunk) - len(chunk.lstrip())
        if stripped.startswith("(") and _closing_paren(stripped) == len(stripped) - 1:
            stripped, offset = stripped[1:-1], offset + 1
        row = []
        for entry in _split_top_level(stripped, ","):
            try:
                row.append(parse(entry, symbols))
            except ParseError as error:
                raise ParseError(error.message, text, offset + error.column - 1, error.hint) from None
            offset += len(entry) + 1
        rows.append(row)
        column += len(chunk) + 1
    return rows


def split_rows(text: str) -> list[list[str]]:
    """The entries of a vector, matrix or list of points as text, split as :func:`parse_rows` splits them.

    >>> split_rows("(0, 0.5); (1, -1)")
    [['0', ' 0.5'], ['1', ' -1']]
    """
    rows = []
    for chunk in _split_top_level(text, ";"):
        stripped = chunk.strip()
        if stripped.startswith("(") and _closing_paren(stripped) == len(stripped) - 1:
            stripped = stripped[1:-1]
        rows.append(_split_top_level(stripped, ","))
    return rows


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _closing_paren(text: str) -> int:
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i
    return -1


def as_expr(value: str | sp.Expr | float, symbols: dict[str, sp.Symbol] | None = None) -> sp.Expr:
    """A user string is parsed safely; a SymPy expression or a Python number is taken as it is."""
    if isinstance(value, str):
        return parse(value, symbols)
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a math expression as a string or SymPy expression, got {type(value).__name__}")
    if isinstance(value, float) and value != value:
        raise ParseError("nan (not a number) is not a value calcml can compute with", "nan", 1)
    if isinstance(value, float) and abs(value) == float("inf"):
        return sp.oo if value > 0 else -sp.oo
    return sp.Integer(value) if isinstance(value, int) else sp.Float(value)


def as_symbol(name: str | sp.Symbol, expr: sp.Expr | None = None) -> sp.Symbol:
    """The symbol called ``name`` in ``expr`` (whatever its assumptions), else a new real symbol."""
    if isinstance(name, sp.Symbol):
        return name
    if not isinstance(name, str) or len(name) > 32 or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ParseError("a variable must be a plain name like x or w1 (at most 32 characters)", str(name)[:200], 1)
    if name in CONSTANTS or name in FUNCTIONS:
        raise ParseError(f"{name!r} is a constant or function name, not a variable", name, 1)
    if expr is not None:
        for symbol in expr.free_symbols:
            if symbol.name == name:
                return symbol
    return sp.Symbol(name, real=True)
