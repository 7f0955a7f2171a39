"""Arithmetic and geometric series, finite and infinite."""
import re

import sympy as sp

from .base import Unsupported
from .helpers import NUMF, rat, with_reading
from .printing import decimal, plain, tex, tex_approx, with_approx
from . import checks
from .scene import result, scene


def series_terms(text):
    m = re.search(r"((?:%s\s*[,+]\s*){1,}%s)\s*[,+]?\s*\.\.\.(?:\s*[,+]?\s*(%s))?" % (NUMF, NUMF, NUMF), text)
    if not m:  # "... of 1, 3, 9": three or more bare numbers
        m = re.search(r"(?<![=\w/.])((?:%s\s*,\s*){2,}%s)(?![\w=/.])()" % (NUMF, NUMF), text)
    if not m:
        return None, None, None
    terms = [rat(t) for t in re.split(r"\s*[,+]\s*", m.group(1)) if t.strip()]
    last = rat(m.group(2)) if m.group(2) else None
    return terms, last, m


def grab(pats, text, conv=rat):
    for p in pats:
        m = re.search(p, text)
        if m:
            return conv(m.group(1))
    return None


def solve_series(text):
    terms, last, m = series_terms(text)
    rest = text if m is None else text[:m.start()] + " " + text[m.end():]
    n = grab([r"\bfirst\s+(\d+)\s+terms?", r"\b(\d+)\s+terms", r"\bn\s*=\s*(\d+)", r"\bup to (?:the )?(\d+)(?:st|nd|rd|th) term", r"\bs_?\s*(\d+)\b"], rest, int)
    a1 = grab([r"\ba_?\s*1\s*=\s*(%s)" % NUMF, r"\bfirst term\s*(?:is|of|=|:|a\s*=)?\s*(%s)" % NUMF,
               r"\ba\s*=\s*(%s)" % NUMF, r"\bstarting (?:at|from|with)\s*(%s)" % NUMF], rest)
    d = grab([r"\bd\s*=\s*(%s)" % NUMF, r"\bdifference\s*(?:is|of|=|:|d\s*=)?\s*(%s)" % NUMF], rest)
    r = grab([r"\br\s*=\s*(%s)" % NUMF, r"\bratio\s*(?:is|of|=|:|r\s*=)?\s*(%s)" % NUMF], rest)
    infinite = bool(re.search(r"\binfinite|\binfinity\b|\boo\b|\bforever\b|\bsum to infinity\b|\bs_?oo\b", text))
    kind = "arithmetic" if re.search(r"arithmetic", text) else ("geometric" if re.search(r"geometric", text) else None)
    if terms is not None:
        if len(terms) < 2:
            raise Unsupported("Give at least two terms, e.g. \"3, 7, 11, ...\".")
        diffs = {terms[i + 1] - terms[i] for i in range(len(terms) - 1)}
        ratios = {terms[i + 1] / terms[i] for i in range(len(terms) - 1)} if all(t != 0 for t in terms) else set()
        if kind is None:
            if len(diffs) == 1 and (len(terms) > 2 or len(ratios) != 1 or d is not None):
                kind = "arithmetic"
            elif len(ratios) == 1:
                kind = "geometric"
        if kind == "arithmetic":
            if len(diffs) != 1:
                raise Unsupported("Those terms don't have a common difference, so it isn't an arithmetic series.")
            a1, d = terms[0], diffs.pop()
        elif kind == "geometric":
            if len(ratios) != 1:
                raise Unsupported("Those terms don't have a common ratio, so it isn't a geometric series.")
            a1, r = terms[0], ratios.pop()
        else:
            raise Unsupported("Those terms have neither a common difference nor a common ratio.")
    if kind is None:
        kind = "arithmetic" if d is not None else ("geometric" if r is not None else None)
    if kind is None or a1 is None:
        raise Unsupported("Give the first terms (\"sum of the first 20 terms of 3, 7, 11, ...\") or the first "
                          "term with the difference or ratio (\"arithmetic series a1=2, d=5, n=10\").")
    if kind == "arithmetic":
        if d is None:
            raise Unsupported("Give the common difference d, e.g. \"a1=2, d=5, n=10\".")
        if n is None and last is not None:
            k = (last - a1) / d if d != 0 else None
            if k is None or not k.is_integer or k < 0:
                raise Unsupported("The last term doesn't belong to that arithmetic sequence.")
            n = int(k) + 1
        if n is None:
            raise Unsupported("Say how many terms to add, e.g. \"the first 20 terms\".")
        if not 1 <= n <= 10 ** 6:
            raise Unsupported("The number of terms must be between 1 and a million.")
        an = a1 + (n - 1) * d
        S = sp.Rational(n, 2) * (2 * a1 + (n - 1) * d)
        title = r"\text{Arithmetic series: } a_1 = %s,\ d = %s,\ n = %s" % (tex(a1), tex(d), n)
        shown = [a1 + i * d for i in range(min(n, 4))]
        steps = [["Terms", ",\ ".join(tex(t) for t in shown) + (r",\ \ldots,\ %s" % tex(an) if n > 4 else "")],
                 ["Sum formula", r"S_n = \frac{n}{2}\left(2a_1 + (n-1)d\right)"],
                 ["Substitute", r"S_{%d} = \frac{%d}{2}\left(2 \cdot %s + %d \cdot %s\right)" % (
                     n, n, tex(a1) if a1 >= 0 else r"(%s)" % tex(a1), n - 1, tex(d) if d >= 0 else r"(%s)" % tex(d))],
                 ["", r"= %s \cdot %s" % (tex(sp.Rational(n, 2)), tex(2 * a1 + (n - 1) * d))],
                 ["", r"S_{%d} = %s" % (n, tex(S))]]
        alatex = r"S_{%d} = %s" % (n, tex(S))
        code = scene(title, steps, alatex, check=checks.term_by_term([a1 + i * d for i in range(n)] if n <= 5000 else [], S))
        out = result("arithmetic_series", "S_%d = %s" % (n, with_approx(S)), alatex, code,
                     "a1 = %s, d = %s, n = %d" % (a1, d, n))
        return with_reading(out, kind="arithmetic", a1=a1, step=d, n=n)
    if r is None:
        raise Unsupported("Give the common ratio r, e.g. \"first term 3 ratio 1/2\".")
    if r == 0:
        raise Unsupported("A geometric series needs a ratio other than 0.")
    title_base = r"\text{Geometric series: } a_1 = %s,\ r = %s" % (tex(a1), tex(r))
    if n is None and (infinite or (terms is not None and last is None)):
        if abs(r) >= 1:
            raise Unsupported("That infinite geometric series diverges because |r| = %s is not less than 1." % plain(abs(r)))
        S = a1 / (1 - r)
        steps = [["Converges", r"|r| = %s < 1" % tex(abs(r))],
                 ["Sum formula", r"S_\infty = \frac{a_1}{1 - r}"],
                 ["Substitute", r"S_\infty = \frac{%s}{1 - %s}" % (tex(a1), tex(r) if r > 0 else r"\left(%s\right)" % tex(r))],
                 ["", r"= \frac{%s}{%s}" % (tex(a1), tex(1 - r))]]
        alatex = r"S_\infty = %s" % tex(S)
        code = scene(title_base + r",\ n \to \infty", steps, alatex, check=checks.partial_sums(a1, r, S))
        out = result("geometric_series", "S_∞ = %s" % with_approx(S), alatex, code,
                     "a1 = %s, r = %s, n = oo" % (a1, r))
        return with_reading(out, kind="geometric", a1=a1, step=r, n=None)
    if n is None and last is not None:
        k = 0
        t = a1
        while t != last and k < 200:
            t, k = t * r, k + 1
        if t != last:
            raise Unsupported("The last term doesn't belong to that geometric sequence.")
        n = k + 1
    if n is None:
        raise Unsupported("Say how many terms to add (\"first 8 terms\") or ask for the infinite sum.")
    if not 1 <= n <= 60:
        raise Unsupported("For a geometric series I add up to 60 terms.")
    S = n * a1 if r == 1 else a1 * (1 - r ** n) / (1 - r)
    shown = [a1 * r ** i for i in range(min(n, 4))]
    steps = [["Terms", ",\ ".join(tex(t) for t in shown) + (r",\ \ldots" if n > 4 else "")]]
    if r == 1:
        steps.append(["Ratio 1", r"S_n = n\,a_1"])
    else:
        steps += [["Sum formula", r"S_n = a_1\,\frac{1 - r^n}{1 - r}"],
                  ["Substitute", r"S_{%d} = %s \cdot \frac{1 - %s^{%d}}{1 - %s}" % (
                      n, tex(a1), tex(r) if (r > 0 and r.q == 1) else r"\left(%s\right)" % tex(r), n,
                      tex(r) if r > 0 else r"\left(%s\right)" % tex(r))],
                  ["", r"= %s \cdot \frac{%s}{%s}" % (tex(a1), tex(1 - r ** n), tex(1 - r))]]
    alatex = r"S_{%d} = %s" % (n, tex_approx(S))
    if S.q >= 10 ** 6:  # a huge exact fraction helps nobody
        answer, alatex = "S_%d ≈ %s" % (n, decimal(S, 6)), r"S_{%d} \approx %s" % (n, decimal(S, 6))
    else:
        answer = "S_%d = %s" % (n, with_approx(S))
    return with_reading(result("geometric_series", answer, alatex, scene(title_base + r",\ n = %d" % n, steps, alatex, check=checks.term_by_term([a1 * r ** i for i in range(n)] if n <= 5000 else [], S)),
                  "a1 = %s, r = %s, n = %d" % (a1, r, n)), kind="geometric", a1=a1, step=r, n=n)
