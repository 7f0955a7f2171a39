"""Right triangles (Pythagoras) and circles."""
import re

import sympy as sp

from .base import Unsupported
from .printing import decimal, plain, tex, tex_approx, with_approx
from . import checks
from .scene import result, scene


def numbers_in(text):
    return [sp.Rational(m) for m in re.findall(r"(?<![a-z_^])\d+(?:\.\d+)?", text)]


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


def solve_pythagoras(text):
    hm = re.search(r"hypotenuse\s*(?:is|of|=|:|length|of length|measures|measuring|equal to|is equal to|"
                   r"has length|with length)?\s*(\d+(?:\.\d+)?)", text) or \
        re.search(r"(\d+(?:\.\d+)?)\s*(?:cm|m|mm|in|ft|units?)?\s*(?:long\s*)?hypotenuse", text) or \
        re.search(r"\bc\s*=\s*(\d+(?:\.\d+)?)", text)
    nums = numbers_in(text)
    if any(n > 10 ** 6 for n in nums):
        raise Unsupported("Those lengths are too large for me.")
    if hm:
        c = sp.Rational(hm.group(1))
        others = list(nums)
        if c in others:
            others.remove(c)
        if len(others) != 1:
            raise Unsupported("Give the hypotenuse and one leg, e.g. \"hypotenuse 13 and one leg 5, find the other leg\".")
        a = others[0]
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
        return result("pythagoras", side_text(b, "." in text), alatex, code, "c = %s, a = %s" % (c, a))
    if len(nums) != 2:
        raise Unsupported("Give the two legs, e.g. \"a right triangle has legs 3 and 4, find the hypotenuse\".")
    a, b = nums
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
    return result("pythagoras", side_text(c, "." in text), alatex, code, "a = %s, b = %s" % (a, b))


def solve_circle(text):
    rm = re.search(r"\bradius\s*(?:is|of|=|:|r\s*=|equal to|is equal to|of length|measuring)?\s*(\d+(?:\.\d+)?)", text) or \
        re.search(r"\br\s*=\s*(\d+(?:\.\d+)?)", text) or re.search(r"(\d+(?:\.\d+)?)\s*(?:cm|m|mm|in|ft|units?)?\s*radius", text)
    dm = re.search(r"\bdiameter\s*(?:is|of|=|:|d\s*=|equal to|is equal to|of length|measuring)?\s*(\d+(?:\.\d+)?)", text) or \
        re.search(r"\bd\s*=\s*(\d+(?:\.\d+)?)", text) or re.search(r"(\d+(?:\.\d+)?)\s*(?:cm|m|mm|in|ft|units?)?\s*diameter", text)
    nums = numbers_in(text)
    if rm:
        r, dia = sp.Rational(rm.group(1)), None
    elif dm:
        dia = sp.Rational(dm.group(1))
        r = dia / 2
    elif len(nums) == 1 and "radius" in text:
        r, dia = nums[0], None
    elif len(nums) == 1 and "diameter" in text:
        dia = nums[0]
        r = dia / 2
    else:
        raise Unsupported("Give the radius or diameter, e.g. \"area of a circle with radius 5\".")
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
    return result("circle", ", ".join(parts), alatex, code, "r = %s" % r)
