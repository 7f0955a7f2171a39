"""Factor, expand and simplify."""
import sympy as sp

from .base import Unsupported
from .helpers import math_part, scrub
from .printing import expr_str, plain, tex, tex_raw
from .helpers import with_reading
from .scene import result, scene
from . import checks
from .text import parse


ALG_NOISE = (r"\b(completely|fully|the expression|expression|the polynomial|polynomial|of|please|it|this|"
             r"as much as possible|over the rationals|into factors|as a product)\b")


def perfect_power(t, k, syms):
    t = -t if t.could_extract_minus_sign() else t
    r = sp.root(t, k)
    return r.is_Rational if t.is_number else r.is_polynomial(*syms) and not r.has(sp.Pow) or r.is_Symbol


def pattern_of(inner, syms):
    """Name the factoring pattern, to say why the factors are what they are."""
    if not inner.is_Add:
        return None
    if len(inner.args) == 2:
        a, b = inner.args
        if a.could_extract_minus_sign() != b.could_extract_minus_sign() and \
                all(perfect_power(t, 2, syms) for t in (a, b)):
            return "Difference of squares", r"a^2 - b^2 = (a - b)(a + b)"
        if all(perfect_power(t, 3, syms) for t in (a, b)):
            return "Sum or difference of cubes", r"a^3 \pm b^3 = (a \pm b)(a^2 \mp ab + b^2)"
    if len(inner.args) == 3 and len(syms) == 1 and sp.degree(inner, syms[0]) == 2:
        return "Trinomial", r"ax^2 + bx + c:\ \text{numbers with product } ac \text{ and sum } b"
    return None


def solve_factor(text):
    body = scrub(text, r"\b(factor|factorise|factorize|factorising|factorizing|factorization|factorisation|"
                       r"factorize|factor out)\b", ALG_NOISE)
    e, et = parse(math_part(body), "expression")
    syms = sorted(e.free_symbols, key=str)
    if not syms or len(syms) > 3 or not e.is_polynomial(*syms):
        raise Unsupported("I can factor polynomials like x^2 - 9 or x^3 - x offline.")
    if sp.Poly(e, *syms).total_degree() > 12:
        raise Unsupported("That polynomial's degree is too high for the offline solver.")
    f = sp.factor(e)
    steps = []
    ft = sp.factor_terms(e)
    if ft != e and ft != f:
        steps.append(["Common factor", tex(ft)])
    if f == e:
        steps.append(["", r"\text{no factors with rational coefficients}"])
    else:
        core = ft.as_independent(*syms, as_Add=False)[1] if ft.is_Mul else ft
        inner = ([q for q in sp.Mul.make_args(core) if q.is_Add] or [core])[-1]
        pattern = pattern_of(inner, syms)
        if pattern:
            steps.append(list(pattern))
        steps.append(["Factor", tex(f)])
    title = r"\text{Factor: } %s" % tex_raw(et)
    alatex = r"%s = %s" % (tex(e), tex(f))
    answer = plain(f)
    code = scene(title, steps, alatex, check=checks.multiply_back(f, e))
    return with_reading(result("factor", answer, alatex, code, expr_str(e)), f=e)


def expand_size(e):
    """An upper bound on the number of terms expand() would make."""
    if e.is_Add:
        return sum(expand_size(a) for a in e.args)
    if e.is_Mul:
        n = 1
        for a in e.args:
            n *= expand_size(a)
        return n
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return expand_size(e.base) ** int(e.exp)
    return 1


def solve_expand(text):
    body = scrub(text, r"\b(expand|multiply out|multiply|distribute|expansion of|expand out|simplify by expanding|"
                       r"remove the brackets|remove the parentheses|remove parentheses|open the brackets)\b", ALG_NOISE)
    e, et = parse(math_part(body), "expression")
    if expand_size(et) > 400:
        raise Unsupported("That expansion would be too long to show.")
    r = sp.expand(e)
    steps = []
    work = et
    if work.is_Pow and work.exp.is_Integer and work.exp >= 2 and work.base.is_Add:
        n = int(work.exp)
        steps.append(["Write as a product", r"\left(%s\right)\left(%s\right)" % (tex(work.base), tex(sp.expand(work.base ** (n - 1))))])
        fac = [work.base, sp.expand(work.base ** (n - 1))]
    else:
        fac = list(sp.Mul.make_args(e))
    adds = [q for q in fac if q.is_Add]
    if len(fac) >= 2 and adds:
        first = fac[0] if fac[0].is_Add else adds[0]
        rest = sp.Mul(*[q for q in fac if q is not first], evaluate=False)
        terms = first.as_ordered_terms()
        if len(terms) <= 4:
            pieces = [r"%s\left(%s\right)" % (tex(t) if t != 1 else "", tex(rest)) for t in terms]
            line = pieces[0]
            for t, pc in zip(terms[1:], pieces[1:]):
                if t.could_extract_minus_sign():
                    line += " - " + r"%s\left(%s\right)" % (tex(-t) if -t != 1 else "", tex(rest))
                else:
                    line += " + " + pc
            steps.append(["Distribute", line])
        unc = sp.Add(*[sp.expand(t * rest) for t in terms], evaluate=False)
        if len(unc.args) <= 8 and len(terms) * len(sp.Add.make_args(sp.expand(rest))) <= 12:
            raw = [sp.expand(t * s) for t in terms for s in sp.expand(rest).as_ordered_terms()]
            line = tex(raw[0])
            for q in raw[1:]:
                line += (" - " + tex(-q)) if q.could_extract_minus_sign() else (" + " + tex(q))
            steps.append(["Multiply each term", line])
    steps.append(["Collect like terms", tex(r)])
    title = r"\text{Expand: } %s" % tex_raw(et)
    code = scene(title, steps, tex(r), check=checks.at_a_point(e, r))
    return with_reading(result("expand", plain(r), tex(r), code, expr_str(e)), f=e)


def solve_simplify(text):
    body = scrub(text, r"\b(simplify|simplified|simplification|reduce|reduced|tidy up|in simplest form|"
                       r"simplest form|to lowest terms|lowest terms)\b", ALG_NOISE)
    e, et = parse(math_part(body), "expression")
    given = e
    syms = e.free_symbols
    steps = []
    cands = [e]
    num, den = sp.fraction(sp.together(e))
    if den.has(*syms) if syms else False:
        fn, fd = sp.factor(num), sp.factor(den)
        c = sp.cancel(e)
        if sp.fraction(c)[1] != den:  # a common factor cancelled: that is the simplification asked for
            steps.append(["Factor", r"\frac{%s}{%s}" % (tex(fn), tex(fd))])
            steps.append(["Cancel common factors", tex(c)])
            e = c
            cands = [c]
    if e.has(sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc):
        t = sp.trigsimp(e)
        cands.append(t)
        if t != e:
            steps.append(["Trig identities", r"\sin^2\theta + \cos^2\theta = 1"])
    cands.append(sp.simplify(e))
    best = min(cands, key=lambda q: (sp.count_ops(q), len(str(q))))
    if not steps or tex(best) != steps[-1][1]:
        steps.append(["Combine like terms" if best.is_polynomial(*syms) and not steps else "Simplify", tex(best)])
    title = r"\text{Simplify: } %s" % tex_raw(et)
    alatex = r"%s = %s" % (tex_raw(et), tex(best))
    code = scene(title, steps, alatex, check=checks.at_a_point(given, best))
    return with_reading(result("simplify", plain(best), tex(best), code, expr_str(given)), f=given)
