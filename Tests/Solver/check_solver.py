"""Checks the offline solver (the `solver` package in Services/Codegen/Library, run
through solver_main.py from disk) the way the daemon drives it: a subprocess speaking
JSON lines.

Every answer is checked against a value this file computes on its own (hand-written
functions, finite differences, fractions.Fraction, math), never with the solver's code.
Also: hostile and unrecognisable input, the scene code's static safety, a rough
leak check, latency (printed), and with --render a real Manim render per family.
The corpus (corpus.jsonl: problems as people type them, traps among them) must come out
with none answered wrongly and at least 95% of its answerable problems answered.

    python Tests/Solver/check_solver.py            # protocol, answers, safety, latency
    python Tests/Solver/check_solver.py --render   # also render one scene per family (minutes)
"""
import ast
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication_application,
                                        parse_expr, standard_transformations)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SOLVER = os.path.join(REPO, "Shared", "Solver", "solver_main.py")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
if not os.path.exists(PYTHON):
    PYTHON = sys.executable
FRAMES = os.path.join(tempfile.gettempdir(), "mathreel-solver-frames")

# ------------------------------------------------------------ reading answers

X = sp.Symbol("x")
T = standard_transformations + (implicit_multiplication_application, convert_xor)
READ = {c: sp.Symbol(c) for c in "abcdfghjklmnopqrstuvwxyz"}
READ.update({"e": sp.E, "i": sp.I, "ln": sp.log, "pi": sp.pi, "sqrt": sp.sqrt, "abs": sp.Abs, "oo": sp.oo,
             "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log, "C": sp.Symbol("C")})


def read(s):
    """An expression in the solver's documented answer format (solver/__init__.py) -> SymPy."""
    s = s.strip()
    s = re.sub(r"\|([^|]+)\|", r"abs(\1)", s)
    s = s.replace("π", "pi").replace("√", "sqrt").replace("∞", "oo")
    return parse_expr(s, local_dict=dict(READ), transformations=T)


def exact_part(s):
    return s.split("≈")[0].strip()


def num(s):
    return complex(sp.N(read(exact_part(s))))


def close(a, b, tol=1e-6):
    return abs(complex(a) - complex(b)) <= tol * max(1.0, abs(complex(b)))


def pairs(answer):
    """'x = 2, y = 3' -> [('x', '2'), ('y', '3')]"""
    out = []
    for part in answer.split(", "):
        name, _, value = part.partition(" = ")
        out.append((name.strip(), value.strip()))
    return out


# ------------------------------------------------------------------ checkers

def roots(residual, count, var="x"):
    """Every reported value makes the hand-written residual zero, and there are `count` of them."""
    def check(ans):
        got = pairs(ans)
        assert len(got) == count, "expected %d roots, got %r" % (count, ans)
        vals = []
        for name, value in got:
            assert name == var, ans
            v = num(value)
            r = residual(v if abs(v.imag) > 1e-12 else v.real)
            assert abs(r) < 1e-7, "residual %r for %s" % (r, value)
            if "≈" in value:  # the decimal agrees with the exact form
                assert close(float(value.split("≈")[1]), v.real, 1e-4), value
            vals.append(v)
        assert len({(round(v.real, 9), round(v.imag, 9)) for v in vals}) == len(vals), "repeated root " + ans
    return check


def system(eq1, eq2):
    def check(ans):
        got = dict(pairs(ans))
        assert set(got) == {"x", "y"}, ans
        x, y = num(got["x"]).real, num(got["y"]).real
        assert abs(eq1(x, y)) < 1e-9 and abs(eq2(x, y)) < 1e-9, ans
    return check


def derivative(f, points=(0.3, 0.7, 1.3, 2.1), var="x"):
    """The reported f' matches a central difference of the hand-written f."""
    def check(ans):
        assert ans.startswith("f'(%s) = " % var), ans
        d = read(ans.split(" = ", 1)[1])
        s = sp.Symbol(var)
        for p in points:
            h = 1e-5
            fd = (f(p + h) - f(p - h)) / (2 * h)
            got = complex(d.subs(s, p).evalf())
            assert close(got, fd, 1e-5), "f'(%s) = %r, finite difference %r" % (p, got, fd)
    return check


def antiderivative(f, points=(0.4, 0.9, 1.7, 2.6), var="x"):
    def check(ans):
        assert ans.startswith("F(%s) = " % var) and ans.endswith(" + C"), ans
        F = read(ans.split(" = ", 1)[1][:-4])
        s = sp.Symbol(var)
        for p in points:
            h = 1e-5
            fd = (complex(F.subs(s, p + h).evalf()) - complex(F.subs(s, p - h).evalf())) / (2 * h)
            assert close(fd, f(p), 1e-5), "F'(%s) = %r, f = %r" % (p, fd, f(p))
    return check


def simpson(f, a, b, n=2000):
    h = (b - a) / n
    s = f(a) + f(b) + sum((4 if k % 2 else 2) * f(a + k * h) for k in range(1, n))
    return s * h / 3


def value(expected, tol=1e-6, irrational=None):
    """'= 9' or '= π ≈ 3.1416' against a hand value."""
    def check(ans):
        assert ans.startswith("= "), ans
        body = ans[2:]
        got = num(body)
        assert close(got, expected, tol), "%r vs %r" % (ans, expected)
        if irrational is not None:
            assert ("≈" in body) == irrational, "≈ shown only when irrational: " + ans
        if "≈" in body:
            assert close(float(body.split("≈")[1]), expected, 1e-3), ans
    return check


def infinite(sign=1):
    def check(ans):
        assert ans == ("= ∞" if sign > 0 else "= -∞"), ans
    return check


def same_function(f, points=(-1.7, -0.6, 0.4, 1.3, 2.2), prefix="", var="x"):
    def check(ans):
        body = ans.split(";")[0]
        assert body.startswith(prefix), ans
        e = read(body[len(prefix):])
        s = sp.Symbol(var)
        for p in points:
            assert close(complex(e.subs(s, p).evalf()), f(p), 1e-9), "%s at %s" % (ans, p)
    return check


def intercepts(f, count):
    def check(ans):
        same_function(f, prefix="y = ")(ans)
        part = [q for q in ans.split("; ") if q.startswith("x-intercepts: ")]
        assert part, ans
        xs = [num(v).real for v in part[0][len("x-intercepts: "):].split(", ")]
        assert len(xs) == count, ans
        for v in xs:
            assert abs(f(v)) < 1e-9, ans
    return check


def agrees(e, f, vars_, ans):
    """The reported expression `e` equals the hand-written `f` at a few points."""
    syms = [sp.Symbol(v) for v in vars_]
    for p in (-1.3, 0.7, 2.9):
        pt = {s: p + 0.37 * k for k, s in enumerate(syms)}
        assert close(complex(e.subs(pt).evalf()), f(*pt.values()), 1e-9), ans


def factored(f, factors, vars_=("x",)):
    """Same polynomial (hand-written f), and a product of at least `factors` factors."""
    def check(ans):
        e = read(ans)
        agrees(e, f, vars_, ans)
        n = sum(int(m.exp) if m.is_Pow else 1 for m in sp.Mul.make_args(e) if not m.is_number)
        assert n >= factors, "%s has %d factors" % (ans, n)
    return check


def expanded(f, vars_=("x",)):
    def check(ans):
        assert "(" not in ans, "still has brackets: " + ans
        e = read(ans)
        agrees(e, f, vars_, ans)
    return check


def simplified(f, most_chars, vars_=("x",)):
    def check(ans):
        e = read(ans)
        agrees(e, f, vars_, ans)
        assert len(ans) <= most_chars, "not simplified enough: " + ans
    return check


def fraction(expected):
    def check(ans):
        assert ans.startswith("= "), ans
        first = re.split(r" = | ≈ ", ans[2:])[0]
        assert Fraction(first) == expected, "%r vs %s" % (ans, expected)
        if expected.denominator != 1:
            dec = float(re.split(r" = | ≈ ", ans[2:])[1])
            assert abs(dec - float(expected)) < 1e-4, ans
            assert ("≈" in ans) != _terminates(expected), ans
    return check


def _terminates(fr):
    q = fr.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def side(expected):
    def check(ans):
        assert close(num(ans).real, expected, 1e-9), "%r vs %r" % (ans, expected)
        if "≈" in ans:
            assert abs(float(ans.split("≈")[1]) - expected) < 1e-3, ans
        else:
            assert float(expected).is_integer() or Fraction(expected).limit_denominator(1000) == Fraction(expected), ans
    return check


def circle(r, area, circumference):
    def check(ans):
        got = dict(pairs(ans))
        want = set()
        if area:
            want.add("A")
            assert close(num(got["A"]).real, math.pi * r * r, 1e-9), ans
            assert abs(float(got["A"].split("≈")[1]) - math.pi * r * r) < 0.006, ans
        if circumference:
            want.add("C")
            assert close(num(got["C"]).real, 2 * math.pi * r, 1e-9), ans
            assert abs(float(got["C"].split("≈")[1]) - 2 * math.pi * r) < 0.006, ans
        assert set(got) == want, ans
    return check


def series_sum(n, expected):
    def check(ans):
        name, _, v = ans.partition(" = ")
        assert name == "S_%s" % n, ans
        assert Fraction(str(read(v))) == Fraction(expected), "%r vs %s" % (ans, expected)
    return check


def det(matrix):
    def check(ans):
        assert ans.startswith("det = "), ans
        assert abs(float(read(ans[6:])) - float(np.linalg.det(np.array(matrix, dtype=float)))) < 1e-9, ans
    return check


def arith(a, d, n):
    return sum(a + k * d for k in range(n))


def geom(a, r, n):
    return sum(Fraction(a) * Fraction(r) ** k for k in range(n))


m = math
CASES = [
    ("fractions", "what is 2 times 3/5 plus 1/5", fraction(Fraction(7, 5))),
    ("fractions", "7 minus 1/3, please", fraction(Fraction(20, 3))),
    # family, problem, check (the first of each family is its leak-check reference)
    ("linear", "3x + 5 = 20", roots(lambda x: 3 * x + 5 - 20, 1)),
    ("linear", "Solve 3x + 5 = 20", roots(lambda x: 3 * x + 5 - 20, 1)),
    ("linear", "solve for y: 2y - 7 = 3y + 1", roots(lambda y: 2 * y - 7 - (3 * y + 1), 1, "y")),
    ("linear", "3(x-2) = 12", roots(lambda x: 3 * (x - 2) - 12, 1)),
    ("linear", "What value of x makes 5 - 2x = x/2 + 10 true? solve it", roots(lambda x: 5 - 2 * x - (x / 2 + 10), 1)),
    ("linear", "find t if 0.5t + 1.25 = 4", roots(lambda t: 0.5 * t + 1.25 - 4, 1, "t")),
    ("linear", "7 − 3(2 − x) = 4x + 1", roots(lambda x: 7 - 3 * (2 - x) - (4 * x + 1), 1)),
    ("linear", "If 4x - 3 = 2x + 9, what is x?", roots(lambda x: 4 * x - 3 - (2 * x + 9), 1)),
    ("quadratic", "x^2 - 5x + 6 = 0", roots(lambda x: x ** 2 - 5 * x + 6, 2)),
    ("quadratic", "find the roots of 2x²+3x-2", roots(lambda x: 2 * x ** 2 + 3 * x - 2, 2)),
    ("quadratic", "solve x**2 = 9", roots(lambda x: x ** 2 - 9, 2)),
    ("quadratic", "Solve the quadratic equation x^2 - 2x - 1 = 0", roots(lambda x: x ** 2 - 2 * x - 1, 2)),
    ("quadratic", "what are the solutions of x² + 2x + 5 = 0", roots(lambda x: x ** 2 + 2 * x + 5, 2)),
    ("quadratic", "x^2 - 6x + 9 = 0", roots(lambda x: x ** 2 - 6 * x + 9, 1)),
    ("quadratic", "zeros of 3x^2 - 12", roots(lambda x: 3 * x ** 2 - 12, 2)),
    ("quadratic", "solve (x+1)(x-4) = 6", roots(lambda x: (x + 1) * (x - 4) - 6, 2)),
    ("system", "2x + y = 7 and x - y = 2", system(lambda x, y: 2 * x + y - 7, lambda x, y: x - y - 2)),
    ("system", "solve the system x+y=10, x-y=4", system(lambda x, y: x + y - 10, lambda x, y: x - y - 4)),
    ("system", "Solve the simultaneous equations 3x - 2y = 4; x + 4y = 13",
     system(lambda x, y: 3 * x - 2 * y - 4, lambda x, y: x + 4 * y - 13)),
    ("system", "find x and y: y = 2x + 1 and y = -x + 7", system(lambda x, y: y - (2 * x + 1), lambda x, y: y + x - 7)),
    ("system", "x = 3 and 2x + 5y = 1", system(lambda x, y: x - 3, lambda x, y: 2 * x + 5 * y - 1)),
    ("system", "system of equations: 0.5x + y = 2, x - 3y = -1",
     system(lambda x, y: 0.5 * x + y - 2, lambda x, y: x - 3 * y + 1)),
    ("system", "Solve simultaneously: x + 2y = 5 and 3x - y = 1",
     system(lambda x, y: x + 2 * y - 5, lambda x, y: 3 * x - y - 1)),
    ("derivative", "d/dx (x^2+1)", derivative(lambda x: x ** 2 + 1)),
    ("derivative", "differentiate x^3 sin(x)", derivative(lambda x: x ** 3 * m.sin(x))),
    ("derivative", "derivative of ln(x)/x", derivative(lambda x: m.log(x) / x)),
    ("derivative", "find f'(x) if f(x)=e^(2x)", derivative(lambda x: m.exp(2 * x))),
    ("derivative", "What is the derivative of sqrt(x^2 + 1)?", derivative(lambda x: m.sqrt(x * x + 1))),
    ("derivative", "differentiate cos(3x) with respect to x", derivative(lambda x: m.cos(3 * x))),
    ("derivative", "dy/dt of t^4 - 3t^2 + 2", derivative(lambda t: t ** 4 - 3 * t ** 2 + 2, var="t")),
    ("derivative", "find the derivative of x sin x cos x", derivative(lambda x: x * m.sin(x) * m.cos(x))),
    ("derivative", "find dy/dx when y = x^2 e^x", derivative(lambda x: x * x * m.exp(x))),
    ("integral", "∫ 2x dx", antiderivative(lambda x: 2 * x)),
    ("integral", "integrate x^2", antiderivative(lambda x: x ** 2)),
    ("integral", "antiderivative of cos(x)", antiderivative(m.cos)),
    ("integral", "find the integral of x e^(x^2) dx", antiderivative(lambda x: x * m.exp(x * x))),
    ("integral", "integrate x sin(x)", antiderivative(lambda x: x * m.sin(x))),
    ("integral", "Integrate 1/x", antiderivative(lambda x: 1 / x)),
    ("integral", "indefinite integral of 3t^2 + 2t + 1 dt", antiderivative(lambda t: 3 * t * t + 2 * t + 1, var="t")),
    ("definite_integral", "∫_0^1 x dx", value(0.5, irrational=False)),
    ("definite_integral", "integrate x^2 from 0 to 3", value(9, irrational=False)),
    ("definite_integral", "area under sin(x) from 0 to pi", value(2, irrational=False)),
    ("definite_integral", "integral of 1/(1+x^2) from 0 to 1", value(m.pi / 4, irrational=True)),
    ("definite_integral", "evaluate the integral of e^x between 0 and 1",
     value(simpson(m.exp, 0, 1), 1e-9, irrational=True)),
    ("definite_integral", "∫_{1}^{2} (3x^2 - 1/x) dx", value(simpson(lambda x: 3 * x * x - 1 / x, 1, 2), 1e-9, irrational=True)),
    ("definite_integral", "integrate e^(-x) from 0 to infinity", value(1)),
    ("definite_integral", "find the area under y = x^2 from 0 to 2", value(8 / 3, irrational=False)),
    ("definite_integral", "integrate from 0 to 2 of x^3", value(4, irrational=False)),
    ("limit", "lim_{x→2} (x^2-4)/(x-2)", value(4)),
    ("limit", "limit of sin(x)/x as x approaches 0", value(1)),
    ("limit", "lim x->∞ (1+1/x)^x", value(m.e, irrational=True)),
    ("limit", "What is the limit of (3x^2 + 1)/(x^2 - 5) as x goes to infinity?", value(3)),
    ("limit", "limit as x approaches 0 of (1 - cos(x))/x^2", value(0.5)),
    ("limit", "lim x->0+ 1/x", infinite(1)),
    ("limit", "find the limit of x^2 + 3x as x tends to 2", value(10)),
    ("limit", "lim (x→0) sin(3x)/x", value(3)),
    ("plot", "plot y = x^2 - 4", intercepts(lambda x: x * x - 4, 2)),
    ("plot", "graph sin(x)", same_function(m.sin, prefix="y = ")),
    ("plot", "sketch f(x)=1/x", same_function(lambda x: 1 / x, prefix="y = ")),
    ("plot", "Please draw the graph of y = 2x + 1", intercepts(lambda x: 2 * x + 1, 1)),
    ("plot", "plot e^x from -2 to 2", same_function(m.exp, prefix="y = ")),
    ("plot", "graph the function y = x^3 - 3x", same_function(lambda x: x ** 3 - 3 * x, prefix="y = ")),
    ("plot", "plot ln(x)", same_function(m.log, points=(0.3, 1.0, 2.5, 4.0), prefix="y = ")),
    ("plot", "graph y = |x - 2|", same_function(lambda x: abs(x - 2), prefix="y = ")),
    ("factor", "factor x^2 - 9", factored(lambda x: x * x - 9, 2)),
    ("factor", "factorise x^3 - x", factored(lambda x: x ** 3 - x, 3)),
    ("factor", "Factor completely: 2x^2 + 7x + 3", factored(lambda x: 2 * x * x + 7 * x + 3, 2)),
    ("factor", "factorize x² - 5x + 6", factored(lambda x: x * x - 5 * x + 6, 2)),
    ("factor", "factor a^2 - b^2", factored(lambda a, b: a * a - b * b, 2, ("a", "b"))),
    ("factor", "factor x^3 - 8", factored(lambda x: x ** 3 - 8, 2)),
    ("factor", "can you factor 4x^2 + 12x + 9", factored(lambda x: 4 * x * x + 12 * x + 9, 2)),
    ("expand", "expand (x+2)^3", expanded(lambda x: (x + 2) ** 3)),
    ("expand", "multiply out (a+b)(a-b)", expanded(lambda a, b: (a + b) * (a - b), ("a", "b"))),
    ("expand", "Expand 3(x - 4)(x + 1)", expanded(lambda x: 3 * (x - 4) * (x + 1))),
    ("expand", "expand (2x - 1)^2", expanded(lambda x: (2 * x - 1) ** 2)),
    ("expand", "please expand (x + 1)(x^2 - x + 1)", expanded(lambda x: (x + 1) * (x * x - x + 1))),
    ("expand", "distribute x(x + 5) - 2(x - 3)", expanded(lambda x: x * (x + 5) - 2 * (x - 3))),
    ("simplify", "simplify (x^2-1)/(x-1)", simplified(lambda x: x + 1, 5)),
    ("simplify", "simplify sin(x)^2+cos(x)^2", simplified(lambda x: 1.0, 1)),
    ("simplify", "Simplify (x^2 + 5x + 6)/(x + 2)", simplified(lambda x: x + 3, 5)),
    ("simplify", "simplify 2x + 3x - x", simplified(lambda x: 4 * x, 2)),
    ("simplify", "simplify (x^3 - x)/(x^2 + x)", simplified(lambda x: x - 1, 5)),
    ("simplify", "reduce (2x^2 - 8)/(4x - 8)", simplified(lambda x: (x + 2) / 2, 9)),
    ("fractions", "1/2 + 3/4", fraction(Fraction(1, 2) + Fraction(3, 4))),
    ("fractions", "what is 2/3 * 9/4", fraction(Fraction(2, 3) * Fraction(9, 4))),
    ("fractions", "compute 5/6 - 1/4 ÷ 1/2", fraction(Fraction(5, 6) - Fraction(1, 4) / Fraction(1, 2))),
    ("fractions", "2/3 + 1/6", fraction(Fraction(2, 3) + Fraction(1, 6))),
    ("fractions", "Calculate (1/3 + 1/4) × 12/7", fraction((Fraction(1, 3) + Fraction(1, 4)) * Fraction(12, 7))),
    ("fractions", "simplify 18/24", fraction(Fraction(18, 24))),
    ("fractions", "7/8 - 2/3", fraction(Fraction(7, 8) - Fraction(2, 3))),
    ("fractions", "3/5 of 20", fraction(Fraction(3, 5) * 20)),
    ("fractions", "1 1/2 + 2 1/3", fraction(Fraction(3, 2) + Fraction(7, 3))),
    ("pythagoras", "a right triangle has legs 3 and 4, find the hypotenuse", side(5)),
    ("pythagoras", "hypotenuse 13 and one leg 5, find the other leg", side(12)),
    ("pythagoras", "Right-angled triangle with legs 5 cm and 7 cm. How long is the hypotenuse?", side(m.hypot(5, 7))),
    ("pythagoras", "Pythagorean theorem: a=8, b=15", side(17)),
    ("pythagoras", "The hypotenuse is 10 and a leg is 6. What's the other leg?", side(8)),
    ("pythagoras", "legs of 1 and 1, hypotenuse?", side(m.sqrt(2))),
    ("circle", "area of a circle with radius 5", circle(5, True, False)),
    ("circle", "circumference of a circle of diameter 10", circle(5, False, True)),
    ("circle", "circle radius 3: area and circumference", circle(3, True, True)),
    ("circle", "What is the area of a circle whose diameter is 7?", circle(3.5, True, False)),
    ("circle", "A circle has r = 2.5. Find its perimeter", circle(2.5, False, True)),
    ("circle", "circle with radius 12", circle(12, True, True)),
    ("arithmetic_series", "sum of the first 20 terms of 3, 7, 11, ...", series_sum(20, arith(3, 4, 20))),
    ("arithmetic_series", "arithmetic series a1=2, d=5, n=10", series_sum(10, arith(2, 5, 10))),
    ("arithmetic_series", "Find the sum 3 + 7 + 11 + ... + 79", series_sum(20, arith(3, 4, 20))),
    ("arithmetic_series", "arithmetic sequence with first term 10 and common difference -3: sum of 15 terms",
     series_sum(15, arith(10, -3, 15))),
    ("arithmetic_series", "sum of the first 100 terms of 1, 2, 3, ...", series_sum(100, 5050)),
    ("arithmetic_series", "What is the sum of the first 12 terms of the arithmetic series 1/2, 1, 3/2, ...?",
     series_sum(12, sum(Fraction(1, 2) * k for k in range(1, 13)))),
    ("geometric_series", "sum of the first 8 terms of 2, 6, 18, ...", series_sum(8, geom(2, 3, 8))),
    ("geometric_series", "geometric series first term 3 ratio 1/2 infinite sum", series_sum("∞", Fraction(3) / (1 - Fraction(1, 2)))),
    ("geometric_series", "sum of the geometric series 1 + 1/2 + 1/4 + ...", series_sum("∞", 2)),
    ("geometric_series", "geometric series a=5, r=2, n=6", series_sum(6, geom(5, 2, 6))),
    ("geometric_series", "Find the sum of the first 5 terms of 81, 27, 9, ...", series_sum(5, geom(81, Fraction(1, 3), 5))),
    ("geometric_series", "sum to infinity of 10, -5, 5/2, ...", series_sum("∞", Fraction(10) / (1 + Fraction(1, 2)))),
    ("geometric_series", "sum of first 6 terms of geometric sequence 1, 3, 9", series_sum(6, geom(1, 3, 6))),
    ("determinant", "det [[2,0,1],[1,3,2],[1,1,1]]", det([[2, 0, 1], [1, 3, 2], [1, 1, 1]])),
    ("determinant", "determinant of [[1,2],[3,4]]", det([[1, 2], [3, 4]])),
    ("determinant", "find the determinant of the matrix 1 2; 3 4", det([[1, 2], [3, 4]])),
    ("determinant", "Compute the determinant of [[3, -1, 2], [0, 4, 5], [1, 2, -2]]", det([[3, -1, 2], [0, 4, 5], [1, 2, -2]])),
    ("determinant", "det of (5, 7), (2, 3)", det([[5, 7], [2, 3]])),
    ("determinant", "what's the determinant of A = [1 2 3; 4 5 6; 7 8 10]", det([[1, 2, 3], [4, 5, 6], [7, 8, 10]])),
    ("determinant", "determinant of the 2x2 matrix with rows 1 2 and 3 4", det([[1, 2], [3, 4]])),
]

# Rendered too with --render: template branches the first problem of a family does not reach.
RENDER_EXTRA = ["circumference of a circle of diameter 10", "hypotenuse 13 and one leg 5, find the other leg",
                "what are the solutions of x² + 2x + 5 = 0", "x = 3 and 2x + 5y = 1",
                "What is the limit of (3x^2 + 1)/(x^2 - 5) as x goes to infinity?",
                "integrate e^(-x) from 0 to infinity", "plot tan(x)", "integrate x sin(x)",
                "differentiate (x^2 + 3x - 7)^5 sin(2x) / (x^4 + 1)", "compute 5/6 - 1/4 ÷ 1/2"]

# Follow-ups: (context, problem, family, check)
FOLLOW_UPS = [
    ("plot y = x^3", "now differentiate it", "derivative", derivative(lambda x: x ** 3)),
    ("differentiate x^2", "what about x^5?", "derivative", derivative(lambda x: x ** 5)),
    ("factor x^2 - 9", "and x^2 - 16", "factor", factored(lambda x: x * x - 16, 2)),
    ("solve x^2 - 5x + 6 = 0", "plot it", "plot", intercepts(lambda x: x * x - 5 * x + 6, 2)),
]

HOSTILE = [
    "__import__('os').system('id')",
    "write me a poem",
    "x'); import os; ('",
    "solve x^2 + __class__ = 0",
    "differentiate open('/etc/passwd').read()",
    "plot eval(\"1+1\")",
    "integrate x \\input{/etc/passwd}",
    "solve x^2 = 4 $(rm -rf /)",
    "plot {{7*7}} and ${x}",
    "solve " + "x + " * 400 + "1 = 0",
    "A" * 5000,
    "what's the weather in Paris?",
    "simplify (x+1)^(9^9^9)",
    "expand (x+1)^100000",
    "solve x^3 - 6x^2 + 11x - 6 = 0",
    "1/0 + 2",
    "solve 2x + 1 = 2x + 3",
    "limit of sin(1/x) as x approaches 0",
    "determinant of [[1,2,3],[4,5,6]]",
    "integrate x from 0 to y`",
    "derivative of x²\u202e",
    "d/dx[x^2]",
    "",
]

# Words around a formula are ignored, but none of them may reach the scene.
TOLERATED = [("factor x^2 - 9; import sys", "factor", ["import sys", "sys"]),
             ("differentiate x^2 please, then os.system('ls')", "derivative", ["system", "ls'", "os."])]

FORBIDDEN = ["open(", "eval(", "exec(", "getattr", "__import__", "__", "import os", "import sys", "subprocess",
             "sympy", "globals(", "compile(", "lambda"]
ALLOWED_IMPORTS = {"manim", "numpy", "math"}

# Words the scene template itself uses (labels, LaTeX commands); any other word of the
# person's text found in the code would be a leak.
VOCAB = set("""product rule quotient chain power sum constant multiple exponential standard derivative logarithmic
differentiation rules used simplify factor zero common difference squares cubes trinomial numbers with and
collect terms expand divide distribute multiply each like write as substitute back eliminate only in one
equation solve discriminant formula quadratic standard form roots real antiderivative evaluate integral by
parts log rule substitution cancel factors identities trig leading known limit indeterminate hopital vertex
intercept intercepts vertical asymptote right triangle pythagorean theorem square root circle area radius
circumference arithmetic series geometric converges ratio terms sum expand along row minors determinant
same denominator flip top bottom frac left right cdot quad text sqrt approx times div pmatrix vmatrix
begin end cases infty pi sin cos tan log ln exp footnotesize qquad pm mp theta no rational coefficients
ldots mathrm operatorname legs labels unknown solved diameter label hline hole area curves dots legend
by""".split())


# ------------------------------------------------------------------ the worker

class Worker:
    def __init__(self):
        self.p = subprocess.Popen([PYTHON, "-I", "-B", SOLVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)
        t = time.time()
        first = self.p.stdout.readline()
        self.startup = time.time() - t
        assert json.loads(first) == {"ready": True}, "first line: %r" % first

    def raw(self, line):
        t = time.perf_counter()
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline()
        ms = (time.perf_counter() - t) * 1000
        assert out, "the worker died: " + self.p.stderr.read()[-2000:]
        return json.loads(out), ms

    def ask(self, problem, context=""):
        return self.raw(json.dumps({"problem": problem, "context": context}))

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=10)
        err = self.p.stderr.read()
        return rc, err


# ------------------------------------------------------------------ code checks

def checker_source():
    """The project's own static check (Shared/Check/checker.py, embedded in the daemons)."""
    try:
        return open(os.path.join(REPO, "Shared", "Check", "checker.py"), encoding="utf-8").read()
    except OSError:
        return None


def static_checks(codes, src, cache):
    # The checker is a worker: a ready line, then one reply line per request line;
    # one worker checks them all (a Python start costs more than a check).
    lines = "".join(json.dumps({"code": c, "names_cache": cache}) + "\n" for c in codes)
    out = subprocess.run([PYTHON, "-I", "-c", src], input=lines, capture_output=True, text=True, timeout=300)
    ready, *replies = out.stdout.splitlines()
    assert json.loads(ready) == {"ready": True}, ready
    assert len(replies) == len(codes), out.stderr[-2000:]
    return [json.loads(r) for r in replies]


def check_code(code, scene="Solution"):
    compile(code, "scene", "exec")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", code), "control character in the scene code"
    assert not re.search(r"\bnan\b|\binf\b|np\.float|np\.int", code), "a non-literal number in the scene code"
    for tok in FORBIDDEN:
        assert tok not in code, "forbidden %r in scene code" % tok
    tree = ast.parse(code)
    classes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in ALLOWED_IMPORTS for a in node.names), ast.dump(node)
        elif isinstance(node, ast.ImportFrom):
            assert node.module in ALLOWED_IMPORTS and node.level == 0, ast.dump(node)
        elif isinstance(node, ast.ClassDef):
            classes.append(node)
        elif isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), node.attr
        elif isinstance(node, ast.Name):
            assert not node.id.startswith("_"), node.id
    assert len(classes) == 1 and classes[0].name == scene, [c.name for c in classes]
    assert [b.id for b in classes[0].bases] == ["Scene"]
    methods = [n for n in classes[0].body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in methods] == ["construct"] and [a.arg for a in methods[0].args.args] == ["self"]


UNCHECKED = []
# A solved reply; readings (2: a second, independent reading agreed) and second_reading (how it read) came with issue 14.
REPLY_KEYS = {"ok", "family", "answer", "answer_latex", "code", "scene", "expression", "lesson", "readings", "second_reading"}


def check_lesson(reply):
    """A lesson of at least 3 scenes, each its own safe scene; the verified answer on screen in the last,
    with a check under it."""
    lesson = reply["lesson"]
    assert isinstance(lesson, list) and len(lesson) >= 3, "lesson: %r" % (lesson,)
    for s in lesson:
        assert set(s) == {"title", "goal", "narration", "code", "scene"}, set(s)
        assert s["title"] and s["goal"] and s["narration"] and all(isinstance(n, str) and n for n in s["narration"])
        check_code(s["code"], s["scene"])
        assert "class %s(Scene):" % s["scene"] in s["code"], s["scene"]
    last = lesson[-1]["code"]
    shown = re.search(r"^        answer_tex = (.*)$", reply["code"], re.M).group(1)
    assert "MathTex(%s, color=YELLOW)" % shown in last, "the answer is not in the last scene"
    # a check is shown only when it comes out (put back, undone, or computed another way);
    # the problems whose lesson has none yet are counted and printed (issue 14 is open)
    if "checkmark" not in last:
        UNCHECKED.append(reply["answer"])
    assert len({s["scene"] for s in lesson}) == len(lesson), "scene classes repeat"


def literals(code):
    return [n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def skeleton(code):
    """The code with every string literal blanked: what is left is template only."""
    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node):
            return ast.Constant("S") if isinstance(node.value, str) else ast.Constant(0)
    return ast.unparse(Blank().visit(ast.parse(code)))


def leaks(problem, code, reference_code, answer_latex):
    """Rough leak check. The skeleton must not hold the person's text, and a string literal may
    hold a 4+ character piece of the problem only when that piece is also SymPy output
    (LaTeX in the reply) or template text (the family's reference scene)."""
    found = []
    low = problem.lower()
    lits = literals(code)
    skel = skeleton(code)
    sympy_text = answer_latex + " " + " ".join(l for l in lits if "\\" in l or re.search(r"[{}^_=]", l))
    windows = {low[i:i + 4] for i in range(len(low) - 3)} | {problem[i:i + 4] for i in range(len(problem) - 3)}
    for w in windows:
        if w.strip() != w or not w.strip():
            continue
        if w in skel and w not in skeleton(reference_code):
            found.append("skeleton: %r" % w)
        for lit in lits:
            if w in lit and w not in reference_code and w not in sympy_text and \
                    not (w.isalpha() and any(w in v for v in VOCAB)):
                found.append("literal: %r" % w)
    # any word of the person's (4+ letters) inside a literal must be template vocabulary
    for word in set(re.findall(r"[a-z]{4,}", low)):
        for lit in lits:
            for used in re.findall(r"[A-Za-z]+", lit):
                if used.lower() == word and word not in VOCAB and word not in reference_code.lower():
                    found.append("word: %r" % word)
    # raw-input notation never appears in SymPy's LaTeX
    for lit in lits:
        for raw in ("**", "sqrt(", "sin(", "cos(", "ln(", "log(", "exp(", "'", '"', "__", "`", "\\input", "\\write"):
            if raw in lit and not (raw == "'" and re.search(r"[a-z]'|\)'|'\(|'v|'\}", lit)):
                found.append("raw notation %r in %r" % (raw, lit[:40]))
    return sorted(set(found))


# ------------------------------------------------------------------ rendering

def render(family, code, workdir):
    d = os.path.join(workdir, family)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "scene.py"), "w") as f:
        f.write(code)
    t = time.time()
    p = subprocess.run([PYTHON, "-m", "manim", "-ql", "--disable_caching", "-o", "video", "--media_dir",
                        os.path.join(d, "media"), "scene.py", "Solution"], cwd=d, capture_output=True, text=True,
                       timeout=600)
    took = time.time() - t
    video = os.path.join(d, "media", "videos", "scene", "480p15", "video.mp4")
    if p.returncode != 0 or not os.path.exists(video):
        return False, took, None, (p.stderr or p.stdout)[-3000:]
    dur = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", video],
                         capture_output=True, text=True).stdout.strip()
    os.makedirs(FRAMES, exist_ok=True)
    png = os.path.join(FRAMES, family + ".png")
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-sseof", "-0.1", "-i", video, "-frames:v", "1", png])
    return True, took, float(dur or 0), png


# ------------------------------------------------------------------ main


# Written apart from the solver (by another hand, after it was finished), in wordings it
# was not tuned on: the benchmark reports their share separately. Not asserted by main().
HELD_OUT = [
    ("linear", "Find x when 4x - 7 = 2x + 5", roots(lambda x: 4 * x - 7 - (2 * x + 5), 1)),
    ("linear", "solve: 10 = 2(y + 3)", roots(lambda y: 10 - 2 * (y + 3), 1, "y")),
    ("quadratic", "Solve for x: x^2 + x - 12 = 0", roots(lambda x: x ** 2 + x - 12, 2)),
    ("quadratic", "what are the roots of 4x^2 - 9 = 0?", roots(lambda x: 4 * x ** 2 - 9, 2)),
    ("system", "Solve the system of equations 3x + 2y = 12 and x - y = -1", system(lambda x, y: 3 * x + 2 * y - 12, lambda x, y: x - y + 1)),
    ("system", "x + 2y = 8, 2x - y = 1: find x and y", system(lambda x, y: x + 2 * y - 8, lambda x, y: 2 * x - y - 1)),
    ("derivative", "What is the derivative of x^4 - 3x^2 + 2?", derivative(lambda x: x ** 4 - 3 * x ** 2 + 2)),
    ("derivative", "differentiate cos(3x) with respect to x", derivative(lambda x: m.cos(3 * x))),
    ("integral", "integrate 3x^2 + 2x dx", antiderivative(lambda x: 3 * x ** 2 + 2 * x)),
    ("integral", "find the antiderivative of e^x", antiderivative(lambda x: m.exp(x))),
    ("definite_integral", "Evaluate the integral of 2x + 1 from 1 to 4", value(simpson(lambda x: 2 * x + 1, 1, 4))),
    ("definite_integral", "integrate cos(x) from 0 to pi/2", value(simpson(m.cos, 0, m.pi / 2), 1e-6)),
    ("limit", "Find the limit of (x^2 - 9)/(x - 3) as x approaches 3", value(6)),
    ("limit", "limit as x goes to infinity of (3x + 1)/(x - 2)", value(3)),
    ("plot", "graph y = 2x + 1", same_function(lambda x: 2 * x + 1, prefix="y = ")),
    ("plot", "Plot the function f(x) = x^3 - x", same_function(lambda x: x ** 3 - x, prefix="y = ")),
    ("factor", "Factor x^2 + 5x + 6", factored(lambda x: x ** 2 + 5 * x + 6, 2)),
    ("factor", "factorize 2x^2 - 8", factored(lambda x: 2 * x ** 2 - 8, 2)),
    ("expand", "Expand (x - 1)(x + 4)", expanded(lambda x: (x - 1) * (x + 4))),
    ("expand", "expand (2x + 3)^2", expanded(lambda x: (2 * x + 3) ** 2)),
    ("simplify", "Simplify (x^2 + 2x + 1)/(x + 1)", simplified(lambda x: x + 1, 8)),
    ("simplify", "simplify 2x + 3x - x", simplified(lambda x: 4 * x, 4)),
    ("fractions", "What is 2/5 + 1/10?", fraction(Fraction(1, 2))),
    ("fractions", "calculate 3/4 divided by 1/8", fraction(Fraction(6))),
    ("pythagoras", "A right triangle has legs 5 and 12. How long is the hypotenuse?", side(13)),
    ("pythagoras", "The hypotenuse is 10 and one leg is 6; find the other leg", side(8)),
    ("circle", "What is the area of a circle with a radius of 2?", circle(2, True, False)),
    ("circle", "Find the circumference of a circle whose radius is 7", circle(7, False, True)),
    ("arithmetic_series", "Find the sum of the first 10 terms of 5, 8, 11, ...", series_sum(10, arith(5, 3, 10))),
    ("arithmetic_series", "arithmetic series with a1 = 1, d = 2, n = 50: find the sum", series_sum(50, arith(1, 2, 50))),
    ("geometric_series", "Sum the first 6 terms of 1, 3, 9, 27, ...", series_sum(6, geom(1, 3, 6))),
    ("geometric_series", "Find the sum of the first 5 terms of the geometric series 4, 2, 1, ...", series_sum(5, geom(4, Fraction(1, 2), 5))),
    ("determinant", "Compute the determinant of [[3, 1], [4, 2]]", det([[3, 1], [4, 2]])),
    ("determinant", "det [[1, 0, 2], [0, 1, 3], [4, 0, 1]]", det([[1, 0, 2], [0, 1, 3], [4, 0, 1]])),
]

# ------------------------------------------------------------------ the corpus

CORPUS = os.path.join(HERE, "corpus.jsonl")
# The share of the corpus's answerable problems that must be answered (issue 14, item 7).
ANSWERED_AT_LEAST = 0.95


def corpus_fn(s, var="x", real=False):
    """A hand-written expression of the corpus as a function of one variable."""
    e, v = read(s), sp.Symbol(var)
    if real:  # many points (Simpson): compiled
        return sp.lambdify(v, e, "math")
    return lambda z: complex(e.subs(v, z).evalf(30)) if isinstance(z, complex) else float(e.subs(v, z).evalf(30))


def corpus_many(s):
    """An expression of several letters: (function, its letters in order)."""
    e = read(s)
    names = sorted(str(v) for v in e.free_symbols) or ["x"]
    syms = [sp.Symbol(n) for n in names]
    return (lambda *a: complex(e.subs(dict(zip(syms, a))).evalf(30))), tuple(names)


def corpus_check(expect):
    """A corpus entry's expect -> a check of the answer, each value computed here from the
    numbers written in the corpus (Fraction, math, Simpson), never by the solver."""
    kind, arg = next(iter(expect.items()))
    if kind == "side":
        return side(float(read(arg)))
    if kind == "circle":
        return circle(float(read(arg[0])), "A" in arg[1], "C" in arg[1])
    if kind == "det":
        return det([[float(Fraction(str(v))) for v in row] for row in arg])
    if kind == "fraction":
        return fraction(Fraction(str(read(arg))))
    if kind == "integral":
        var = arg[3] if len(arg) > 3 else "x"
        a, b = float(read(arg[1])), float(read(arg[2]))
        # Simpson converges slowly where the curve is steep (sqrt(x) at 0): 1e-5 is still far from any misreading
        return value(simpson(corpus_fn(arg[0], var, real=True), a, b, 20000), 1e-5)
    if kind == "roots":
        return roots(corpus_fn(arg[0]), arg[1])
    if kind == "system":
        f1, f2 = (corpus_many(q)[0] for q in arg)
        return system(lambda x, y: f1(x, y).real, lambda x, y: f2(x, y).real)
    if kind == "derivative":
        return derivative(corpus_fn(arg))
    if kind == "antiderivative":
        return antiderivative(corpus_fn(arg))
    if kind == "limit":
        return infinite(1 if arg == "oo" else -1) if arg in ("oo", "-oo") else value(float(read(arg)))
    if kind == "plot":
        return same_function(corpus_fn(arg), prefix="y = ")
    if kind == "factor":
        f, names = corpus_many(arg[0])
        return factored(f, arg[1], names)
    if kind == "expand":
        f, names = corpus_many(arg)
        return expanded(f, names)
    if kind == "simplify":
        f, names = corpus_many(arg[0])
        return simplified(f, arg[1], names)
    if kind == "arith":
        return series_sum(arg[2], arith(Fraction(str(arg[0])), Fraction(str(arg[1])), arg[2]))
    if kind == "geom":
        a, r = Fraction(str(arg[0])), Fraction(str(arg[1]))
        if arg[2] == "oo":
            return series_sum("∞", a / (1 - r))
        return series_sum(arg[2], geom(a, r, arg[2]))
    raise ValueError("corpus: unknown expect %r" % kind)


def load_corpus(path=CORPUS):
    """[(family, problem, check or None for an expected refusal, trap)]"""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            item = json.loads(line)
            if "note" in item:
                continue
            expect = item["expect"]
            check = None if "refuse" in expect else corpus_check(expect)
            out.append((item["family"], item["problem"], check, bool(item.get("trap"))))
    return out


def run_corpus(w, failures):
    """Every corpus problem: answered right, refused, or answered wrong (a failure). Returns the latencies."""
    corpus = load_corpus()
    answerable = [c for c in corpus if c[2] is not None]
    answered, wrong, refused, lat = 0, [], [], []
    for family, problem, check, trap in corpus:
        reply, ms = w.ask(problem)
        lat.append(ms)
        if not reply.get("ok"):
            msg = reply.get("message", "")
            if not (isinstance(msg, str) and 20 <= len(msg) <= 600):
                failures.append("corpus refusal without a usable message: %r -> %r" % (problem, msg))
            if check is not None:
                refused.append("%s | %s | %s" % (family, problem, msg[:140]))
            continue
        try:
            assert check is not None, "answered, but no answer is certain (expected a refusal)"
            assert reply["family"] == family, "family %s" % reply["family"]
            check(reply["answer"])
            assert set(reply) == REPLY_KEYS and reply["readings"] == 2, "not read twice"
            check_code(reply["code"])
            for s in reply["lesson"]:
                check_code(s["code"], s["scene"])
            answered += 1
        except Exception as e:
            wrong.append("%s%s | %s | %s: %s | answer=%r" % ("trap " if trap else "", family, problem,
                                                            type(e).__name__, e, reply.get("answer")))
    rate = answered / len(answerable)
    print("\ncorpus: %d problems (%d answerable, %d expected refusals, %d traps)" % (
        len(corpus), len(answerable), len(corpus) - len(answerable), sum(c[3] for c in corpus)))
    for r in refused:
        print("  refused (answerable): " + r)
    for x in wrong:
        print("  WRONG: " + x)
    s = sorted(lat)
    print("corpus: answered %.1f%% (%d of %d answerable), wrong %d; latency p50 %.1f ms, p90 %.1f ms" % (
        100 * rate, answered, len(answerable), len(wrong), s[len(s) // 2], s[int(len(s) * 0.9)]))
    if wrong:
        failures.append("corpus: %d answered wrongly (none may be)" % len(wrong))
    if rate < ANSWERED_AT_LEAST:
        failures.append("corpus: answered %.1f%% of the answerable problems (at least %.0f%% needed)" % (
            100 * rate, 100 * ANSWERED_AT_LEAST))
    return lat


def judge(path):
    """--judge FILE: FILE holds [{"problem", "answer"}] (answers got elsewhere, e.g. through
    the daemon); each is checked with this file's own checks. Prints one JSON verdict."""
    checks = {problem: (family, check) for family, problem, check in CASES + HELD_OUT}
    correct, wrong = 0, []
    items = json.load(open(path))
    for item in items:
        family, check = checks.get(item["problem"], (None, None))
        try:
            assert check is not None and isinstance(item.get("answer"), str)
            check(item["answer"])
            correct += 1
        except Exception:
            wrong.append(item)
    held = {p for _, p, _ in HELD_OUT} - {p for _, p, _ in CASES}
    held_items = [i for i in items if i["problem"] in held]
    held_wrong = [i for i in wrong if i["problem"] in held]
    print(json.dumps({"correct": correct, "total": len(items), "wrong": wrong,
                      "held_out": {"correct": len(held_items) - len(held_wrong), "total": len(held_items)}}))


def main():
    if "--list" in sys.argv:  # the problem set, for the benchmark
        print(json.dumps([{"family": f, "problem": p} for f, p, _ in CASES]
                         + [{"family": f, "problem": p, "held_out": True} for f, p, _ in HELD_OUT
                            if p not in {q for _, q, _ in CASES}]))
        return
    if "--judge" in sys.argv:
        judge(sys.argv[sys.argv.index("--judge") + 1])
        return
    do_render = "--render" in sys.argv
    failures = []
    w = Worker()
    print("worker ready in %.2f s" % w.startup)
    latencies = []
    replies = {}
    per_family = {}
    for family, problem, check in CASES:
        reply, ms = w.ask(problem)
        latencies.append(ms)
        per_family[family] = per_family.get(family, 0) + 1
        try:
            assert reply.get("ok") is True, "not solved: %r" % reply.get("message")
            assert reply["family"] == family, "family %s" % reply["family"]
            assert reply["scene"] == "Solution"
            assert set(reply) == REPLY_KEYS, set(reply)
            assert reply["readings"] == 2 and reply["second_reading"], "not read twice"
            check(reply["answer"])
            check_code(reply["code"])
            check_lesson(reply)
            replies[(family, problem)] = reply
        except AssertionError as e:
            failures.append("%s | %s | %s | answer=%r" % (family, problem, e, reply.get("answer")))
            continue
        except Exception as e:
            failures.append("%s | %s | %s: %s | answer=%r" % (family, problem, type(e).__name__, e, reply.get("answer")))
            continue
        print("  ok %-18s %6.1f ms  %-58s -> %s" % (family, ms, problem[:58], reply["answer"]))

    # the leak check; first make sure it would see a planted leak
    some = next(iter(replies.values()))["code"]
    planted = some.replace("steps = [", "steps = [['banana split', 'y = 2**x'], ", 1)
    caught = leaks("Solve banana split: y = 2**x", planted, some, "")
    assert any("banana" in f for f in caught) and any("**" in f for f in caught), caught
    by_family = {}
    for family, problem, _ in CASES:
        if (family, problem) in replies:
            by_family.setdefault(family, []).append(problem)
    for (family, problem), reply in replies.items():
        # template text: the scene of another problem of the family (its first, or its second)
        others = [q for q in by_family[family] if q != problem]
        ref = replies[(family, others[0])]["code"] if others else ""
        found = leaks(problem, reply["code"], ref, reply["answer_latex"])
        if found:
            failures.append("leak %s | %s | %s" % (family, problem, found))

    run_corpus(w, failures)

    for ctx, problem, family, check in FOLLOW_UPS:
        reply, ms = w.ask(problem, ctx)
        try:
            assert reply.get("ok") and reply["family"] == family, reply.get("message") or reply.get("family")
            check(reply["answer"])
            check_code(reply["code"])
            print("  ok follow-up %-30s after %-20s -> %s" % (problem, ctx, reply["answer"]))
        except Exception as e:
            failures.append("follow-up %s after %s: %s" % (problem, ctx, e))

    for problem in HOSTILE:
        reply, ms = w.ask(problem)
        latencies.append(ms)
        msg = reply.get("message", "")
        try:
            assert reply.get("ok") is False and reply.get("error") == "unsupported_problem", reply
            assert isinstance(msg, str) and 20 <= len(msg) <= 600, msg
            assert "__import__" not in msg and "/etc/passwd" not in msg
            print("  refused %6.1f ms  %-40r -> %s" % (ms, problem[:40], msg[:110]))
        except AssertionError as e:
            failures.append("hostile %r: %s" % (problem[:60], e))
    for problem, family, absent in TOLERATED:
        reply, _ = w.ask(problem)
        try:
            assert reply.get("ok") and reply["family"] == family, reply.get("message")
            check_code(reply["code"])
            for a in absent:
                assert a not in reply["code"] and a not in reply["answer"], a
            print("  ok (noise ignored) %-45r -> %s" % (problem, reply["answer"]))
        except AssertionError as e:
            failures.append("tolerated %r: %s" % (problem, e))
    # unrecognised input says how to phrase a problem and how to get more
    for problem in ("write me a poem", "what's the weather in Paris?", "tell me a joke"):
        msg = w.ask(problem)[0]["message"]
        if not ("MATHREEL_PROVIDERS" in msg and msg.count('"') >= 4):
            failures.append("unhelpful message for %r: %s" % (problem, msg))

    # protocol edges: not JSON, wrong shape, blank, an oversized line; the worker keeps going
    for line, error in (("this is not json", "bad_request"), ('{"problem": 42}', "bad_request"),
                        ('["solve x = 1"]', "bad_request"), ("", "bad_request"),
                        (json.dumps({"problem": "x" * (2 << 20)}), "unsupported_problem")):
        reply, _ = w.raw(line)
        if reply.get("ok") is not False or reply.get("error") != error:
            failures.append("protocol %r -> %r" % (line[:30], reply))
    reply, _ = w.ask("solve 3x + 5 = 20", context=None)
    if not reply.get("ok"):
        failures.append("the worker did not recover after protocol errors")
    rc, err = w.close()
    if rc != 0:
        failures.append("worker exit code %s: %s" % (rc, err[-500:]))

    print("lessons without a check under the answer: %d of %d" % (len(UNCHECKED), len(replies)))
    lat = sorted(latencies)
    p50 = lat[len(lat) // 2]
    print("\n%d problems (%s), %d hostile/unrecognised, %d follow-ups" % (
        len(CASES), ", ".join("%s %d" % kv for kv in sorted(per_family.items())), len(HOSTILE), len(FOLLOW_UPS)))
    # Printed, not asserted: speed is measured by `make bench` on a quiet machine, not
    # by a test that shares the cores with the rest of the suite.
    print("latency: p50 %.1f ms, p90 %.1f ms, max %.1f ms" % (p50, lat[int(len(lat) * 0.9)], lat[-1]))
    assert len(CASES) >= 85 and min(per_family.values()) >= 5 and len(per_family) == 17

    src = checker_source()
    if src is None:
        print("project static check: Shared/Check/checker.py not found, skipped")
    else:
        cache = os.path.join(tempfile.gettempdir(), "mathreel-check-names.json")
        bad = 0
        checked = static_checks([reply["code"] for reply in replies.values()], src, cache)
        for ((family, problem), reply), r in zip(replies.items(), checked):
            if not r.get("valid") or r.get("scene") != "Solution" or r.get("warnings") or r.get("fixes"):
                bad += 1
                failures.append("static check %s | %s | %s %s" % (family, problem, r.get("errors"), r.get("warnings")))
        print("project static check: %d scenes, %d refused" % (len(replies), bad))

    if do_render:
        workdir = tempfile.mkdtemp(prefix="mathreel-render-")
        firsts = {}
        for family, problem, _ in CASES:
            if family not in firsts and (family, problem) in replies:
                firsts[family] = replies[(family, problem)]["code"]
        w2 = Worker()
        for i, problem in enumerate(RENDER_EXTRA):
            reply, _ = w2.ask(problem)
            if reply.get("ok"):
                check_code(reply["code"])
                firsts["extra%d-%s" % (i, reply["family"])] = reply["code"]
            else:
                failures.append("render extra %r not solved: %s" % (problem, reply.get("message")))
        w2.close()
        print("\nrendering %d scenes (one per family, then %d extra) in %s" % (len(firsts), len(RENDER_EXTRA), workdir))
        for family, code in firsts.items():
            ok, took, dur, info = render(family, code, workdir)
            if not ok:
                failures.append("render %s failed: %s" % (family, info))
                print("  FAILED %s" % family)
                continue
            print("  rendered %-26s in %5.1f s, video %4.1f s, last frame %s" % (family, took, dur, info))
            if not 8 <= dur <= 20:
                failures.append("render %s: video is %.1f s (want 8-20 s)" % (family, dur))
        shutil.rmtree(workdir, ignore_errors=True)

    if failures:
        print("\nFAILURES (%d):" % len(failures))
        for f in failures:
            print("  - " + f)
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
