"""Equations in one variable: linear and quadratic."""
import re

import sympy as sp

from .base import Unsupported
from .curves import curve_data, graph_spec, y_window
from .helpers import math_part, one_var, scrub
from .printing import decimal, expr_str, plain, tex, tex_approx, tex_raw, with_approx
from .helpers import with_reading
from .scene import result, scene
from . import checks
from .text import parse_equation


def solve_equation(text):
    hint = None
    m = re.search(r"\bfor ([a-z])\b", text)
    if m:
        hint = sp.Symbol(m.group(1))
    body = scrub(text, r"\bfor [a-z]\b", r"\b(solve|solving|roots? of|zeros? of|zeroes of|solutions? (?:of|to)|"
                       r"the equation|equation|quadratic|linear|values? of [a-z]|[a-z] if|where|such that|"
                       r"real|all|x-intercepts? of|using the quadratic formula|by factoring|by factorising|"
                       r"by factorizing|with the quadratic formula|quadratic formula)\b")
    body = math_part(body, need_eq="=" in body)
    if "=" not in body:
        body = body + " = 0"
    lhs, rhs, lt, rt = parse_equation(body)
    x = one_var([lhs, rhs], hint)
    others = (lhs.free_symbols | rhs.free_symbols) - {x}
    if others:
        raise Unsupported("The equation has other letters besides %s (%s). For two unknowns give two "
                          "equations, e.g. \"2x + y = 7 and x - y = 2\"." % (x, ", ".join(sorted(map(str, others)))))
    p = sp.expand(lhs - rhs)
    if not p.is_polynomial(x):
        raise Unsupported("I can solve linear and quadratic equations offline, and this one is neither. "
                          "An AI provider (MATHREEL_PROVIDERS) can handle it.")
    poly = sp.Poly(p, x)
    deg = poly.degree()
    title = "%s = %s" % (tex_raw(lt), tex_raw(rt))
    if deg <= 0:
        if p == 0:
            raise Unsupported("Every value of %s satisfies that equation (both sides are equal)." % x)
        raise Unsupported("That equation has no solution: it simplifies to %s = 0." % plain(p))
    if deg > 2:
        raise Unsupported("That is a degree-%d equation; offline I solve linear and quadratic ones. "
                          "An AI provider (MATHREEL_PROVIDERS) can handle it." % deg)
    if any(not c.is_number or not c.is_real for c in poly.all_coeffs()):
        raise Unsupported("I couldn't read the coefficients of that equation as real numbers.")
    expression = "%s = %s" % (expr_str(lhs), expr_str(rhs))
    if deg == 1:
        return linear(x, lhs, rhs, poly, title, expression)
    return quadratic(x, lhs, rhs, poly, title, expression)


def linear(x, lhs, rhs, poly, title, expression):
    a, b = poly.all_coeffs()
    steps = []
    el, er = sp.expand(lhs), sp.expand(rhs)
    if el != lhs or er != rhs:
        steps.append(["Expand", "%s = %s" % (tex(el), tex(er))])
    rhs_const = -b
    xl = tex(a * x)
    if not (el == a * x and er == rhs_const):
        steps.append(["Collect terms", "%s = %s" % (xl, tex(rhs_const))])
    sol = rhs_const / a
    if a != 1:
        steps.append(["Divide by $%s$" % tex(a), "%s = %s" % (tex(x), tex(sol))])
    answer = "%s = %s" % (x, with_approx(sol))
    alatex = "%s = %s" % (tex(x), tex_approx(sol))
    code = scene(title, steps, alatex, check=checks.substitute(x, [sol], lhs, rhs))
    return with_reading(result("linear", answer, alatex, code, expression), equation=lhs - rhs)


def quadratic(x, lhs, rhs, poly, title, expression):
    a, b, c = poly.all_coeffs()
    p = poly.as_expr()
    steps = []
    if sp.expand(lhs) != lhs or rhs != 0:
        steps.append(["Standard form", "%s = 0" % tex(p)])
    disc = sp.expand(b ** 2 - 4 * a * c)
    roots = [sp.expand((-b - sp.sqrt(disc)) / (2 * a)), sp.expand((-b + sp.sqrt(disc)) / (2 * a))]
    rational = all(r.is_Rational for r in roots)
    if rational:
        f = sp.factor(p)
        steps.append(["Factor", "%s = 0" % tex(f)])
        _, factors = sp.factor_list(p)
        parts = [r"%s = 0" % tex(fc) for fc, _m in factors if fc.has(x)]
        if len(parts) > 1:
            steps.append(["Zero product", r" \quad\text{or}\quad ".join(parts)])
    else:
        steps.append(["Quadratic formula", r"%s = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}" % tex(x)])
        steps.append(["", r"a = %s,\ b = %s,\ c = %s" % (tex(a), tex(b), tex(c))])
        steps.append(["Discriminant", r"b^2 - 4ac = %s" % tex(disc)])
        steps.append(["", r"%s = \frac{%s \pm \sqrt{%s}}{%s}" % (tex(x), tex(-b), tex(disc), tex(2 * a))])
    uniq = []
    for r in roots:
        if not any(sp.expand(r - u) == 0 for u in uniq):
            uniq.append(r)
    if all(r.is_real for r in uniq):
        uniq.sort(key=lambda r: float(r))
    else:
        uniq.sort(key=lambda r: float(sp.im(r)))
    answer = ", ".join("%s = %s" % (x, with_approx(r)) for r in uniq)
    alatex = r" \quad\text{or}\quad ".join("%s = %s" % (tex(x), tex(r)) for r in uniq)
    if disc < 0:
        steps.append(["No real roots", r"\sqrt{%s} = %s" % (tex(disc), tex(sp.sqrt(disc)))])
    if not rational:  # x = p ± q, short enough to box beside the graph
        centre, half = -b / (2 * a), sp.sqrt(disc) / abs(2 * a)
        alatex = r"%s = %s \pm %s" % (tex(x), tex(centre), tex(half)) if centre != 0 else r"%s = \pm %s" % (tex(x), tex(half))
        if disc > 0:
            steps.append(["", r"%s \approx %s" % (tex(x), r",\ ".join(decimal(r) for r in uniq))])
    # the parabola, roots marked
    fa = [float(r) for r in uniq if r.is_real]
    vx = float(-b / (2 * a))
    lo = min(fa + [vx]) - 3
    hi = max(fa + [vx]) + 3
    if hi - lo < 6:
        lo, hi = vx - 3, vx + 3
    xs, ys = curve_data(p, x, lo, hi)
    vy = float(p.subs(x, -b / (2 * a)))
    yr = y_window([ys], include=[0.0, vy])
    dots = [(float(u), 0.0, tex(u) if u.is_Rational else decimal(u, 2)) for u in uniq if u.is_real]
    g = graph_spec([(0, xs, ys)], (lo, hi), yr, legend=[(0, "y = " + tex(p))], dots=dots)
    code = scene(title, steps, alatex, graph=g, check=checks.substitute(x, uniq, lhs, rhs))
    return with_reading(result("quadratic", answer, alatex, code, expression), equation=lhs - rhs)
