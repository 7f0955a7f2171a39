"""The second reading's own formula reader: a tokenizer and a precedence-climbing parser
that builds SymPy objects directly. It shares no code with text.py (no parse_expr, no
allow-list of its own: the first reading has already refused what is unsafe), so a formula
misread by one is unlikely to be misread the same way by the other."""
import re

import sympy as sp


FUNCTIONS = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
             "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "arcsin": sp.asin, "arccos": sp.acos,
             "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "ln": sp.log,
             "log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "abs": sp.Abs}
CONSTANTS = {"pi": sp.pi, "e": sp.E, "oo": sp.oo, "inf": sp.oo, "infinity": sp.oo, "infty": sp.oo}
KNOWN = sorted(list(FUNCTIONS) + list(CONSTANTS), key=len, reverse=True)
# English words that would split into letters; a formula never holds them.
ENGLISH = {"a", "i", "at", "an", "as", "am", "be", "by", "do", "go", "he", "hi", "if", "in", "is", "it", "me",
           "my", "no", "of", "ok", "on", "or", "so", "to", "up", "us", "we", "and", "the", "for", "are",
           "its", "not", "but", "you", "can", "how", "let", "use", "all", "get"}


class Unreadable(Exception):
    """The second reader could not read the formula (the problem is then refused)."""


def split_letters(run):
    """A run of letters as known names and single letters, longest name first (xsinx -> x sin x);
    None when it looks like a word."""
    out, i, singles = [], 0, 0
    while i < len(run):
        for name in KNOWN:
            if run.startswith(name, i):
                out.append(name)
                i += len(name)
                break
        else:
            out.append(run[i])
            singles += 1
            i += 1
    if len(run) > 1 and (singles > 2 or len(out) > 4):
        return None
    return out


TOKEN = re.compile(r"\s*(?:(\d+\.\d+|\d+|\.\d+)|([a-z]+)|(\*\*|->|[-+*/^()=|,;:{}\[\]])|(\S))")


def lex(text):
    """[(kind, value)]: num, name, op, or word (anything a formula cannot hold)."""
    out = []
    for m in TOKEN.finditer(text):
        num, run, op, other = m.groups()
        if num is not None:
            out.append(("num", num))
        elif run is not None:
            parts = None if run in ENGLISH and run not in ("a", "i") else split_letters(run)
            if parts is None:
                out.append(("word", run))
            else:
                out.extend(("name", p) for p in parts)
        elif op is not None:
            out.append(("op", "^" if op == "**" else op))
        elif other is not None:
            out.append(("word", other))
    # "a" or "i" before a word is the article or the pronoun, not a letter
    for k, (kind, v) in enumerate(out):
        if kind == "name" and v in ("a", "i") and k + 1 < len(out) and out[k + 1][0] == "word":
            out[k] = ("word", v)
    return out


def spans(tokens, stop=(",", ";", ":")):
    """Maximal runs of formula tokens, split at words and at , ; :"""
    runs, cur = [], []
    for kind, v in tokens:
        if kind == "word" or (kind == "op" and v in stop):
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append((kind, v))
    if cur:
        runs.append(cur)
    return runs


class Parser:
    """expr: sums of products; a product may be implicit (2x, x sin x, 3(x+1)); ^ binds tightest and
    to the right; sin x takes one factor as its argument (sin 2x is sin(2x))."""

    def __init__(self, tokens):
        self.t = list(tokens)
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, v):
        if self.next() != ("op", v):
            raise Unreadable("expected %r" % v)

    def whole(self):
        e = self.sum()
        if self.i != len(self.t):
            raise Unreadable("left over %r" % (self.t[self.i:],))
        return e

    def sum(self):
        e = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.next()[1]
            rhs = self.product()
            e = e + rhs if op == "+" else e - rhs
        return e

    def starts_factor(self):
        kind, v = self.peek()
        return kind in ("num", "name") or (kind == "op" and v in ("(", "{", "["))

    def product(self):
        e = self.signed()
        while True:
            kind, v = self.peek()
            if (kind, v) == ("op", "*"):
                self.next()
                e = e * self.signed()
            elif (kind, v) == ("op", "/"):
                self.next()
                e = e / self.signed()
            elif self.starts_factor():
                e = e * self.power()
            else:
                return e

    def signed(self):
        if self.peek() == ("op", "-"):
            self.next()
            return -self.signed()
        if self.peek() == ("op", "+"):
            self.next()
            return self.signed()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.next()
            exp = self.signed()
            if exp.is_number and exp.is_finite and abs(complex(exp)) > 200:
                raise Unreadable("exponent too large")
            return base ** exp
        return base

    def group(self):
        close = {"(": ")", "{": "}", "[": "]"}[self.next()[1]]
        e = self.sum()
        self.expect(close)
        return e

    def atom(self):
        kind, v = self.peek()
        if kind == "num":
            self.next()
            return sp.Rational(v)
        if kind == "op" and v in ("(", "{", "["):
            return self.group()
        if kind == "op" and v == "|":
            self.next()
            e = self.sum()
            self.expect("|")
            return sp.Abs(e)
        if kind == "name" and v in FUNCTIONS:
            self.next()
            return self.call(FUNCTIONS[v])
        if kind == "name" and v in CONSTANTS:
            self.next()
            return CONSTANTS[v]
        if kind == "name":
            self.next()
            return sp.Symbol(v)
        raise Unreadable("unexpected %r" % (v,))

    def call(self, fn):
        power = None
        if self.peek() == ("op", "^"):  # sin^2 x is (sin x)^2
            self.next()
            kind, v = self.next()
            if kind != "num":
                raise Unreadable("function power")
            power = sp.Rational(v)
        if self.peek()[1] in ("(", "{", "["):
            arg = self.group()
        else:  # one factor: a number, a letter or a constant, with a power
            arg = sp.Integer(1)
            if self.peek()[0] == "num":
                arg = sp.Rational(self.next()[1])
            if self.peek()[0] == "name" and self.peek()[1] not in FUNCTIONS:
                arg = arg * self.power()
            elif arg == 1 and self.peek()[0] != "num":
                raise Unreadable("function without an argument")
        out = fn(arg)
        return out ** power if power is not None else out


def parse(tokens):
    if not tokens:
        raise Unreadable("empty")
    return Parser(tokens).whole()


def same(a, b, points=3):
    """Two readings of an expression are the same function (checked at complex points)."""
    try:
        d = sp.expand(a - b) if (a - b).is_polynomial() else a - b
        if d == 0:
            return True
        syms = sorted(d.free_symbols, key=str)
        for k in range(points):
            pt = {s: sp.Float(0.37 + 0.29 * k + 0.11 * j) + sp.I * sp.Float(0.23 + 0.13 * k) for j, s in enumerate(syms)}
            va, vb = complex(sp.N(a.subs(pt))), complex(sp.N(b.subs(pt)))
            if abs(va - vb) > 1e-8 * max(1.0, abs(va), abs(vb)):
                return False
        return True
    except (TypeError, ValueError, ZeroDivisionError):
        return False
