"""Which family a problem belongs to, follow-ups with context, and solve(): every
refusal becomes an unsupported reply here."""
import re

from .base import EXAMPLES, HELP, MAX_PROBLEM, Timeout, Unsupported
from .family_algebra import solve_expand, solve_factor, solve_simplify
from .family_derivatives import solve_derivative
from .family_determinants import solve_determinant
from .family_equations import solve_equation
from .family_fractions import FRACTION_NOISE, solve_fractions
from .family_geometry import solve_circle, solve_pythagoras
from .family_integrals import solve_definite, solve_integral
from .family_limits import solve_limit
from .family_plots import solve_plot
from .family_series import solve_series
from .family_systems import solve_system
from .helpers import arith_words, find_bounds, scrub
from .reading import PHRASE, agree, confirm
from .text import normalise


def has(pat, text):
    return re.search(pat, text) is not None


def only_arith(text):
    text = arith_words(text)
    body = scrub(text, FRACTION_NOISE)
    body = body.rstrip("= ").strip()
    return bool(body) and re.fullmatch(r"[\d\s+\-*/().]+", body) is not None and re.search(r"\d", body) is not None \
        and (re.search(r"[+*/]|\d\s*-", body) is not None)


def route(text):
    """The family for normalised text, or None."""
    if has(r"\bdet\b|\bdeterminant", text):
        return solve_determinant
    if has(r"hypotenuse|right[- ]?(?:angled )?triangle|pythag|\blegs?\b", text):
        return solve_pythagoras
    if has(r"\bcircle|\bradius\b|\bdiameter\b|circumference", text):
        return solve_circle
    if has(r"\bseries\b|\bsequence\b|\bprogression\b|arithmetic|geometric|common ratio|common difference|"
           r"sum of (?:the )?first|(?<!lowest )(?<!like )(?<!simplest )\bterms\b|\d\s*,\s*\.\.\.|\.\.\.", text):
        return solve_series
    integral = has(r"\bintegra|antiderivative|anti-derivative|\bprimitive\b|area under|area between", text)
    if integral and find_bounds(text):
        return solve_definite
    if integral:
        return solve_integral
    if has(r"\blim(?:it)?(?![a-z])", text):
        return solve_limit
    if has(r"\bdifferentiat|\bderivative|\bderive\b|d/d[a-z]|\b[a-z]'|\bd[a-z]/d[a-z]\b|\bdiff\b", text):
        return solve_derivative
    if has(r"\bsolve\b", text) and "=" in text:
        return solve_system if text.count("=") >= 2 else solve_equation
    if has(r"\b(plot|graph|sketch|draw)\b", text):
        return solve_plot
    equation_words = has(r"=|\bsolve\b|\broots?\b|\bzeros?\b|\bzeroes\b|\bsolutions?\b", text)
    if has(r"\bfactor(?:ise|ize|ising|izing|isation|ization)?\b", text) and not has(r"=|\broots?\b|\bsolve\b", text):
        return solve_factor
    if has(r"\bexpand|multiply out|\bdistribute\b|remove the (?:brackets|parentheses)", text) and "=" not in text:
        return solve_expand
    if only_arith(text):
        return solve_fractions
    if has(r"\bsimplif|\breduce\b|lowest terms|simplest form", text) and "=" not in text:
        return solve_simplify
    if text.count("=") >= 2:
        return solve_system
    if equation_words:
        return solve_equation
    return None


VERBS = {"derivative": "differentiate", "integral": "integrate", "factor": "factor", "expand": "expand",
         "simplify": "simplify", "plot": "plot"}


def with_context(text, context):
    """Follow-ups: "now plot it" or "what about x^3?" after an earlier problem."""
    if not context or len(context) > MAX_PROBLEM or odd_chars(normalise(context)):
        return None
    try:
        prev = solve_text(normalise(context))
    except Exception:
        return None
    if not prev.get("ok"):
        return None
    expr = prev["expression"]
    if ";" in expr or "[" in expr or not re.fullmatch(r"[0-9a-zA-Z\s+\-*/^().=]*", expr):
        return None
    if "=" in expr:
        l, r = expr.split("=", 1)
        expr = l if r.strip() == "0" else "(%s) - (%s)" % (l, r)
    expr = expr.replace("E", "e")
    if has(r"\b(it|this|that|the same|the function|the result|the expression)\b", text):
        return re.sub(r"\b(it|this|that|the same|the function|the result|the expression)\b", "(%s)" % expr, text, count=1)
    verb = VERBS.get(prev["family"])
    m = re.match(r"^(?:and |now |what about |how about |same for |same with |and what about )+(.*)$", text)
    if verb and m:
        return "%s %s" % (verb, m.group(1))
    return None


def solve_text(text):
    handler = route(text)
    if handler is None:
        raise LookupError
    # no answer without a second, independent reading that agrees (issue 14)
    return confirm(handler(text), text)


def odd_chars(text):
    """Characters no supported problem needs (LaTeX, shell, templating, other scripts)."""
    odd = sorted(set(re.findall(r"[\\`$#@~<>&%]|[^\x00-\x7f]", text.replace("->", ""))))
    return odd + ["_"] if "__" in text else odd


def solve(problem, context="", restated=None):
    """The reply for a problem; with `restated` (a model's own plain restatement of it), the
    reply only when that restatement reads the same (see against_model)."""
    reply = solve_problem(problem, context)
    first = reply.pop("reading", None)
    if restated is None or not reply.get("ok"):
        return reply
    return against_model(reply, first, restated)


def against_model(reply, first, restated):
    """The third reading: a model restated the problem in plain notation, and the family that
    solved the problem reads that restatement. The same family reading other quantities is a
    disagreement, refused; a restatement no family of ours reads, or reads as another kind of
    problem, cannot be held against ours and leaves the two built-in readings standing."""
    family = reply["family"]
    text = normalise(restated) if isinstance(restated, str) else ""
    theirs = None
    if text.strip() and len(text) <= MAX_PROBLEM and not odd_chars(text):
        handler = route(text)
        try:
            theirs = handler(text) if handler is not None else None
        except Timeout:
            raise
        except Exception:  # Unsupported among them: a restatement we cannot read
            theirs = None
    if theirs is None or theirs.get("family") != family or theirs.get("reading") is None or first is None:
        reply["model_reading"] = "not_comparable"
        return reply
    if not agree(family, first, theirs["reading"]):
        return unsupported("I read that problem one way and the helper model read it another (as \"%s\"), so I "
                           "won't guess an answer. Phrase it like %s." % (restated.strip()[:120], PHRASE[family]))
    reply["model_reading"] = "agrees"
    reply["readings"] = 3
    return reply


def solve_problem(problem, context=""):
    if not isinstance(problem, str) or not problem.strip():
        return unsupported(HELP)
    if len(problem) > MAX_PROBLEM:
        return unsupported("That message is too long for the offline solver (at most %d characters). "
                           "Try a shorter problem, e.g. %s." % (MAX_PROBLEM, EXAMPLES))
    text = normalise(problem)
    odd = odd_chars(text)
    if odd:
        shown = " ".join(c for c in odd if c.isprintable() and not c.isspace()) or "(an invisible control character)"
        return unsupported("I can't read the character(s) %s. Write the problem in plain words and notation, "
                           "e.g. %s." % (shown, EXAMPLES))
    try:
        try:
            return solve_text(text)
        except (LookupError, Unsupported) as first:
            follow = with_context(text, context if isinstance(context, str) else "")
            if follow is not None and follow != text:
                try:
                    return solve_text(follow)
                except LookupError:
                    pass
            if isinstance(first, Unsupported):
                raise first
            return unsupported(HELP)
    except Unsupported as e:
        return unsupported(str(e))
    except Timeout:
        return unsupported("That took too long to work out offline. An AI provider (MATHREEL_PROVIDERS) "
                           "may handle it, or try a simpler form.")
    except RecursionError:
        return unsupported("That formula is nested too deeply for me.")
    except Exception:
        return unsupported("Something in that problem stopped the offline solver. Try phrasing it like %s, "
                           "or configure an AI provider (MATHREEL_PROVIDERS)." % EXAMPLES)


def unsupported(message):
    return {"ok": False, "error": "unsupported_problem", "message": message}
