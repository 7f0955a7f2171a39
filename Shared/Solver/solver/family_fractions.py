"""Arithmetic with fractions, one operation per step, parsed by hand (not SymPy)."""
import re

import sympy as sp

from .base import MAX_EXPR, Unsupported
from .helpers import arith_words, scrub
from .printing import decimal, expr_str, plain, tex
from . import checks
from .helpers import with_reading
from .scene import result, scene


FRACTION_NOISE = r"\b(how much is|how much|what's|whats|what|is|of|simplify|reduce|calculate|compute|evaluate|work out|solve|equals|equal)\b"


class Frac:
    """A number as written: p/q stays unreduced until an operation uses it."""

    def __init__(self, p, q=1):
        self.p, self.q = sp.Integer(p), sp.Integer(q)

    @property
    def value(self):
        return sp.Rational(self.p, self.q)

    def tex(self):
        if self.q == 1:
            return tex(self.p)
        neg = (self.p < 0)
        s = r"\frac{%s}{%s}" % (tex(abs(self.p)), tex(self.q))
        return "-" + s if neg else s


def frac_of(v):
    v = sp.Rational(v)
    return Frac(v.p, v.q)


def tokenize(s):
    """Tokens; a "/" between two numbers with no space is a fraction bar ("f/"), any other "/"
    divides: 3 / 3/4 is 3 divided by three quarters, not a third of a quarter."""
    toks = []
    for m in re.finditer(r"\d+(?:\.\d+)?|\.\d+|[-+*/()]|\S", s):
        t = m.group(0)
        if not re.match(r"\d|\.\d|[-+*/()]$", t):
            raise Unsupported("I couldn't read that arithmetic.")
        if t == "/" and 0 < m.start() and m.end() < len(s) and s[m.start() - 1].isdigit() and s[m.end()].isdigit():
            t = "f/"
        toks.append(t)
    return toks


def number(t):
    r = sp.Rational(t)
    return Frac(r.p, r.q) if "." in t else Frac(int(t), 1)


class Arith:
    """A tiny parser for + - * / and parentheses; a/b between two numbers is one fraction."""

    def __init__(self, s):
        self.toks = tokenize(s)
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def parse(self):
        node = self.expr(0)
        if self.peek() is not None:
            raise Unsupported("I couldn't read that arithmetic.")
        return node

    def expr(self, depth):
        if depth > 10:
            raise Unsupported("Too many parentheses.")
        node = self.term(depth)
        while self.peek() in ("+", "-"):
            node = [self.take(), node, self.term(depth)]
        return node

    def term(self, depth):
        node = self.unary(depth)
        while self.peek() in ("*", "/", "f/"):
            node = [self.take().lstrip("f"), node, self.unary(depth)]
        return node

    def unary(self, depth):
        if self.peek() == "-":
            self.take()
            inner = self.unary(depth)
            if isinstance(inner, Frac):
                return Frac(-inner.p, inner.q)
            return ["*", Frac(-1), inner]
        if self.peek() == "+":
            self.take()
            return self.unary(depth)
        return self.atom(depth)

    def atom(self, depth):
        t = self.take()
        if t == "(":
            node = self.expr(depth + 1)
            if self.take() != ")":
                raise Unsupported("The parentheses don't match.")
            return ["()", node]
        if t is None or not re.match(r"\d|\.\d", t):
            raise Unsupported("I couldn't read that arithmetic.")
        n = number(t)
        nxt = self.peek()
        if "." not in t and nxt is not None and re.match(r"\d+$", nxt) and self.peek(1) == "f/" \
                and self.peek(2) is not None and re.match(r"\d+$", self.peek(2)):
            self.take()  # a mixed number: 1 1/2
            self.take()
            q = int(self.take())
            if q == 0:
                raise Unsupported("That divides by zero.")
            return Frac(int(t) * q + int(nxt), q)
        if self.peek() == "f/" and self.peek(1) is not None and re.match(r"\d+$", self.peek(1)) and "." not in t:
            self.take()
            d = int(self.take())
            if d == 0:
                raise Unsupported("That divides by zero.")
            n = Frac(n.p, d)
        return n


OPS = {"+": "+", "-": "-", "*": r"\times", "/": r"\div"}
PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def arith_tex(node, parent=0, right=False):
    if isinstance(node, Frac):
        s = node.tex()
        return r"\left(%s\right)" % s if (node.p < 0 and (parent or right)) else s
    if node[0] == "()":
        return r"\left(%s\right)" % arith_tex(node[1])
    op, a, b = node
    return "%s %s %s" % (arith_tex(a, PREC[op]), OPS[op], arith_tex(b, PREC[op], True))


def count_ops_arith(node):
    if isinstance(node, Frac):
        return 0
    if node[0] == "()":
        return count_ops_arith(node[1])
    return 1 + count_ops_arith(node[1]) + count_ops_arith(node[2])


def op_step(op, a, b):
    """One operation on two fractions: (label, latex of the working, result)."""
    A, B = a.value, b.value
    ta, tb = a.tex(), b.tex()
    tb_ = r"\left(%s\right)" % tb if b.p < 0 else tb
    if op in "+-":
        r = A + B if op == "+" else A - B
        if a.q == 1 and b.q == 1:
            return "Add" if op == "+" else "Subtract", "%s %s %s = %s" % (ta, op, tb_, tex(r)), r
        if a.q == b.q:
            line = r"%s %s %s = \frac{%s %s %s}{%s} = %s" % (ta, op, tb_, tex(a.p), op, tex(b.p) if b.p >= 0 else r"(%s)" % tex(b.p), tex(a.q), tex(r))
            return "Same denominator", line, r
        L = sp.ilcm(a.q, b.q)
        na, nb = a.p * (L // a.q), b.p * (L // b.q)
        line = r"%s %s %s = \frac{%s}{%s} %s \frac{%s}{%s} = %s" % (ta, op, tb_, tex(na), tex(L), op,
                                                                    tex(nb) if nb >= 0 else r"(%s)" % tex(nb), tex(L), tex(r))
        return "Common denominator %s" % L, line, r
    if op == "*":
        r = A * B
        line = r"%s \times %s = \frac{%s \times %s}{%s \times %s} = %s" % (ta, tb_, tex(a.p), tex(b.p), tex(a.q), tex(b.q), tex(r))
        if a.q == 1 and b.q == 1:
            line = r"%s \times %s = %s" % (ta, tb_, tex(r))
        return "Multiply", line, r
    if B == 0:
        raise Unsupported("That divides by zero.")
    r = A / B
    flip = Frac(b.q, b.p) if b.p > 0 else Frac(-b.q, -b.p)
    line = r"%s \div %s = %s \times %s = %s" % (ta, tb_, ta, flip.tex(), tex(r))
    return "Divide: flip and multiply", line, r


def reduce_once(node):
    """Evaluate the first operation whose operands are both numbers."""
    if isinstance(node, Frac):
        return node, None
    if node[0] == "()":
        inner, st = reduce_once(node[1])
        if isinstance(inner, Frac):
            return inner, st
        return ["()", inner], st
    op, a, b = node
    if isinstance(a, list):
        na, st = reduce_once(a)
        return [op, na, b], st
    if isinstance(b, list):
        nb, st = reduce_once(b)
        return [op, a, nb], st
    label, line, r = op_step(op, a, b)
    return frac_of(r), (label, line)


def solve_fractions(text):
    text = arith_words(text)
    body = scrub(text, FRACTION_NOISE)
    body = body.rstrip("= ").strip()
    if len(body) > MAX_EXPR:
        raise Unsupported("That calculation is too long for me (at most %d characters)." % MAX_EXPR)
    if re.search(r"\d{13,}", body):
        raise Unsupported("One of the numbers is too large for me.")
    tree = Arith(body).parse()
    n = count_ops_arith(tree)
    if n > 6:
        raise Unsupported("That calculation has too many operations to show step by step (6 at most).")
    title = arith_tex(tree)
    steps = []
    node = tree
    while not isinstance(node, Frac):
        node, st = reduce_once(node)
        if st:
            steps.append([st[0], st[1]])
    v = node.value
    if isinstance(tree, Frac) and (tree.q != 1 and sp.gcd(tree.p, tree.q) != 1):
        g = sp.gcd(tree.p, tree.q)
        steps.append(["Divide top and bottom by %s" % g, r"%s = %s" % (tree.tex(), tex(v))])
    dec = decimal(v, 4)
    exact = plain(v)
    q = v.q
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if v.q == 1:
        answer, alatex = "= " + exact, "= " + tex(v)
    elif q == 1 and len(dec) <= 12:
        answer, alatex = "= %s = %s" % (exact, dec), "= %s = %s" % (tex(v), dec)
    else:
        answer, alatex = "= %s ≈ %s" % (exact, dec), r"= %s \approx %s" % (tex(v), dec)
    code = scene(title, steps, title + " " + alatex, check=checks.decimal_check(v) if v.q != 1 else [])
    return with_reading(result("fractions", answer, title + " " + alatex, code, expr_str(sp.sympify(v))), value=v)
