"""Right triangles (Pythagoras) and circles, each number placed by the words around it (hypotenuse or
leg, radius or diameter), refused when its role is not certain."""
import re

import sympy as sp

from .base import Unsupported
from .printing import decimal, plain, tex, tex_approx, with_approx
from . import checks
from .helpers import with_reading
from .scene import result, scene


def root_line(name, square, root):
    """c = sqrt(25) = 5, c = sqrt(50) = 5 sqrt(2) ≈ 7.0711, c = sqrt(41) ≈ 6.4031."""
    line = r"%s = \sqrt{%s}" % (name, tex(square))
    if root.is_Rational or root != sp.sqrt(square, evaluate=False):
        line += " = " + tex(root)
    if not root.is_Rational:
        line += r" \approx " + decimal(root)
    return line


def side_text(v, decimals):
    """A side length for the answer: exact, or a terminating decimal when the question used decimals."""
    if decimals and v.is_Rational and v.q != 1:
        q = v.q
        for p_ in (2, 5):
            while q % p_ == 0:
                q //= p_
        if q == 1:
            return decimal(v, 10)
    return with_approx(v)


N = r"(\d+(?:\.\d+)?)"
UNIT = r"(?:\s*(?:cm|mm|km|m|in|inches|inch|ft|feet|foot|units?|meters?|metres?))?"
# Each pattern names one side by its role; the number in group 1 (and 2) has that role.
HYP_PATS = [r"\bhypotenuse\s*(?:is|of|=|:|length|of length|measures|measuring|equal to|is equal to|has length|"
            r"with length|that is)?\s*" + N,
            N + UNIT + r"\s*(?:long\s*)?hypotenuse",
            N + UNIT + r"\s+is\s+(?:the\s+)?(?:length of the\s+)?hypotenuse",
            r"\bhypotenuse\s+of\s+(?:a|the|this|my)\s+(?:right[- ]?(?:angled\s+)?)?triangle\s+(?:is|=|measures)\s+" + N,
            r"\blongest side\s*(?:is|of|=|:|measures)?\s*" + N,
            r"\bc\s*=\s*" + N]
LEG_PATS = [r"\b(?:legs?|shorter sides|two shorter sides|shortest side|short sides)\s*(?:is|are|of|=|:|of length|"
            r"of lengths|measure|measures|measuring|equal to)?\s*" + N + UNIT + r"(?:\s*(?:and|,|&)\s*" + N + r")?",
            N + UNIT + r"\s*(?:and|,|&)\s*" + N + UNIT + r"\s+(?:are\s+)?(?:the\s+)?legs\b",
            N + UNIT + r"\s+is\s+(?:a|one|the other|the)\s+leg\b",
            r"\b[ab]\s*=\s*" + N]


def triangle_roles(text):
    """The hypotenuse and legs named in the text, every number placed by its words, or Unsupported."""
    hyp, legs, taken = [], [], set()

    def claim(m, into):
        for g in range(1, (m.lastindex or 0) + 1):
            if m.group(g) is not None and m.start(g) not in taken:
                taken.add(m.start(g))
                into.append(sp.Rational(m.group(g)))

    for pat in HYP_PATS:
        for m in re.finditer(pat, text):
            claim(m, hyp)
    for pat in LEG_PATS:
        for m in re.finditer(pat, text):
            claim(m, legs)
    loose = [sp.Rational(m.group(0)) for m in re.finditer(r"(?<![a-z_^.\d])\d+(?:\.\d+)?", text) if m.start() not in taken]
    if any(n > 10 ** 6 for n in hyp + legs + loose):
        raise Unsupported("Those lengths are too large for me.")
    if len(set(hyp)) > 1:
        raise Unsupported("I found two different hypotenuses. Give one hypotenuse and one leg, e.g. "
                          "\"hypotenuse 13 and one leg 5, find the other leg\".")
    hyp = hyp[:1]
    asks_hyp = not hyp and re.search(r"hypotenuse|longest side|third side is the longest", text) is not None
    if hyp:
        legs += loose  # with the hypotenuse named, any other side is a leg
    elif asks_hyp or re.search(r"\blegs\b", text) and len(legs) + len(loose) == 2 and not legs:
        legs += loose
    elif loose:
        raise Unsupported("I can't tell which of those sides is the hypotenuse. Name each side, e.g. "
                          "\"the hypotenuse is 13 and one leg is 5\" or \"legs 3 and 4, find the hypotenuse\".")
    return (hyp[0] if hyp else None), legs


def solve_pythagoras(text):
    c, legs = triangle_roles(text)
    if c is not None:
        if len(legs) != 1:
            raise Unsupported("Give the hypotenuse and one leg, e.g. \"hypotenuse 13 and one leg 5, find the other leg\"."
                              if not legs else "All three sides are given, so nothing is missing. Give two sides and "
                              "ask for the third, e.g. \"legs 3 and 4, find the hypotenuse\".")
        a = legs[0]
        if a <= 0 or c <= 0:
            raise Unsupported("Side lengths must be positive.")
        if a >= c:
            raise Unsupported("A leg must be shorter than the hypotenuse.")
        b2 = c ** 2 - a ** 2
        b = sp.sqrt(b2)
        title = r"\text{Right triangle: } c = %s,\ a = %s,\ b = \,?" % (tex(c), tex(a))
        steps = [["Pythagorean theorem", r"a^2 + b^2 = c^2"],
                 ["Substitute", r"%s^2 + b^2 = %s^2" % (tex(a), tex(c))],
                 ["", r"b^2 = %s - %s = %s" % (tex(c ** 2), tex(a ** 2), tex(b2))],
                 ["Square root", root_line("b", b2, b)]]
        alatex = r"b = %s" % tex_approx(b)
        fig = {"legs": [float(a), float(b)], "labels": [tex(a), "b = ?", "c = %s" % tex(c)], "unknown": 1,
               "solved": "b = %s" % (tex(b) if b.is_Rational else decimal(b, 2))}
        code = scene(title, steps, alatex, triangle=fig, check=checks.pythagoras(a, b, c))
        out = result("pythagoras", side_text(b, "." in text), alatex, code, "c = %s, a = %s" % (c, a))
        return with_reading(out, hyp=c, legs=[a])
    if len(legs) != 2:
        raise Unsupported("Give the two legs, e.g. \"a right triangle has legs 3 and 4, find the hypotenuse\".")
    a, b = legs
    if a <= 0 or b <= 0:
        raise Unsupported("Side lengths must be positive.")
    c2 = a ** 2 + b ** 2
    c = sp.sqrt(c2)
    title = r"\text{Right triangle: } a = %s,\ b = %s,\ c = \,?" % (tex(a), tex(b))
    steps = [["Pythagorean theorem", r"a^2 + b^2 = c^2"],
             ["Substitute", r"%s^2 + %s^2 = c^2" % (tex(a), tex(b))],
             ["", r"%s + %s = %s = c^2" % (tex(a ** 2), tex(b ** 2), tex(c2))],
             ["Square root", root_line("c", c2, c)]]
    alatex = r"c = %s" % tex_approx(c)
    fig = {"legs": [float(a), float(b)], "labels": [tex(a), tex(b), "c = ?"], "unknown": 2,
           "solved": "c = %s" % (tex(c) if c.is_Rational else decimal(c, 2))}
    code = scene(title, steps, alatex, triangle=fig, check=checks.pythagoras(a, b, c))
    out = result("pythagoras", side_text(c, "." in text), alatex, code, "a = %s, b = %s" % (a, b))
    return with_reading(out, hyp=None, legs=sorted([a, b]))


CIRCLE_GIVEN = r"(?:is|of|=|:|equal to|is equal to|of length|measuring|measures|that is)?\s*"
RADIUS_PATS = [r"\bradius\s*" + CIRCLE_GIVEN + N, r"\br\s*=\s*" + N, N + UNIT + r"\s*radius"]
DIAMETER_PATS = [r"\bdiameter\s*" + CIRCLE_GIVEN + N, r"\bd\s*=\s*" + N, N + UNIT + r"\s*diameter"]
HALF_PATS = [r"\bradius\s*(?:is|=|:)?\s*half\s+(?:of\s+)?" + N]
# an area or circumference that is given, not asked: the radius would have to come from it
GIVEN_OTHER = r"\b(area|circumference|perimeter)\s*(?:of\s+(?:the|a|this|my)\s+circle\s*)?(?:is|=|:|of|equals|measures)\s*" + N
OTHER_SHAPES = r"\b(semi-?circles?|half[- ]circles?|half a circle|quarter[- ]circles?|quarter of a circle|sectors?|arcs?|" \
               r"spheres?|cylinders?|cones?|rings?|annulus|ellipses?|ovals?)\b"
ASKS_SIZE = r"\b(?:find|what is|what's|whats|calculate|compute|determine|give|how long is|and)\s+(?:the\s+|its\s+)?(radius|diameter)\b(?!\s*" + CIRCLE_GIVEN + r"\d)" \
            r"|\b(radius|diameter)\s*\?"


def circle_roles(text):
    """(radius, diameter or None): every number placed by its words, or Unsupported."""
    shape = re.search(OTHER_SHAPES, text)
    if shape:
        raise Unsupported("I work with whole circles offline (area and circumference), not a %s. "
                          "An AI provider (MATHREEL_PROVIDERS) can handle it." % shape.group(1))
    given = re.search(GIVEN_OTHER, text)
    if given:
        raise Unsupported("Here the %s is given, so the radius would come from it; offline I go the other way. "
                          "Give the radius or diameter, e.g. \"area of a circle with radius 5\"." % given.group(1))
    asked = re.search(ASKS_SIZE, text)
    if asked:
        raise Unsupported("I give a circle's area and circumference; the %s isn't among them. Ask like "
                          "\"area and circumference of a circle with diameter 18\" (the radius is half the diameter)."
                          % (asked.group(1) or asked.group(2)))
    taken = set()

    def find(pats, scale=1):
        vals = []
        for pat in pats:
            for m in re.finditer(pat, text):
                if m.start(1) not in taken:
                    taken.add(m.start(1))
                    vals.append(sp.Rational(m.group(1)) * scale)
        return vals

    rs = find(HALF_PATS, sp.Rational(1, 2)) + find(RADIUS_PATS)
    ds = find(DIAMETER_PATS)
    loose = [m.group(0) for m in re.finditer(r"(?<![a-z_^.\d])\d+(?:\.\d+)?", text) if m.start() not in taken]
    if loose:
        raise Unsupported("I can't tell what %s is in that. Name it, e.g. \"a circle with radius 5\" or "
                          "\"the diameter is 10\"." % loose[0])
    radii = set(rs) | {d / 2 for d in ds}
    if len(radii) > 1:
        raise Unsupported("The radius and diameter given don't agree (the diameter is twice the radius). "
                          "Give one of them, e.g. \"area of a circle with radius 5\".")
    if not radii:
        raise Unsupported("Give the radius or diameter, e.g. \"area of a circle with radius 5\".")
    r = radii.pop()
    return r, (ds[0] if ds and not rs else None)


def solve_circle(text):
    r, dia = circle_roles(text)
    if r <= 0 or r > 10 ** 6:
        raise Unsupported("The radius must be a positive number (up to a million).")
    want_a = bool(re.search(r"\barea\b", text))
    want_c = bool(re.search(r"circumference|perimeter|\blength around\b", text))
    if not want_a and not want_c:
        want_a = want_c = True
    A, C = sp.pi * r ** 2, 2 * sp.pi * r
    steps = []
    if dia is not None:
        steps.append(["Radius", r"r = \frac{d}{2} = \frac{%s}{2} = %s" % (tex(dia), tex(r))])
    parts, lparts = [], []
    if want_a:
        steps.append(["Area", r"A = \pi r^2 = \pi \cdot %s^2 = %s \approx %s" % (
            tex(r) if r.q == 1 else r"\left(%s\right)" % tex(r), tex(A), decimal(A, 2))])
        parts.append("A = %s ≈ %s" % (plain(A), decimal(A, 2)))
        lparts.append(r"A = %s \approx %s" % (tex(A), decimal(A, 2)))
    if want_c:
        steps.append(["Circumference", r"C = 2\pi r = 2\pi \cdot %s = %s \approx %s" % (
            tex(r) if r.q == 1 else r"\left(%s\right)" % tex(r), tex(C), decimal(C, 2))])
        parts.append("C = %s ≈ %s" % (plain(C), decimal(C, 2)))
        lparts.append(r"C = %s \approx %s" % (tex(C), decimal(C, 2)))
    given = ("d = %s" % tex(dia)) if dia is not None else ("r = %s" % tex(r))
    title = r"\text{Circle: } %s" % given
    alatex = r",\quad ".join(lparts)
    code = scene(title, steps, alatex, check=checks.circle(r, A if want_a else None, C if want_c else None), circle={"diameter": dia is not None, "label": given})
    out = result("circle", ", ".join(parts), alatex, code, "r = %s" % r)
    return with_reading(out, r=r, asked=("A" if want_a else "") + ("C" if want_c else ""))
