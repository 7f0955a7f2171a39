"""The second reading (issue 14): every solved problem is read again from its text, by other
means than the family parsers (clauses and role words for sides and circles, a bracket scan
for matrices, a word grammar for arithmetic, reading_expr's own parser for formulas), and
the answer stands only when both readings agree. Owns confirm(): the agreement and the
refusal when they differ."""
import re
from fractions import Fraction

import sympy as sp

from .base import Unsupported
from . import reading_expr as rx
from .reading_expr import Unreadable


# ------------------------------------------------------------------ words

WORD = re.compile(r"\d+(?:\.\d+)?(?:/\d+)?|[a-z]+|->|[=,;.:?!()\[\]|+*/^-]|\S")
BREAKS = {",", ";", ".", ":", "?", "!", "and", "if", "while", "but", "whose", "with", "where", "when", "then"}


def words(text):
    return WORD.findall(text)


def value(tok):
    return Fraction(tok)


def is_num(tok):
    return re.fullmatch(r"\d+(?:\.\d+)?(?:/\d+)?", tok) is not None


def clauses(toks):
    out, cur = [], []
    for t in toks:
        if t in BREAKS:
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        out.append(cur)
    return out


def mentions(clause, lexicon):
    """[(position, role, plural)] of the role words in a clause; lexicon(clause, k) -> (role, plural) or None."""
    out = []
    for k in range(len(clause)):
        hit = lexicon(clause, k)
        if hit:
            out.append((k, hit[0], hit[1]))
    return out


def place(toks, lexicon, scale=None):
    """Each number to the nearest role word of its clause (earlier on a tie); a clause of bare
    numbers takes the plural role before it ("legs 3 and 4"). Returns ({role: [values]},
    roles named without a number, numbers with no role)."""
    given, bare, unplaced = {}, set(), []
    last_plural = None
    for clause in clauses(toks):
        ms = mentions(clause, lexicon)
        nums = [k for k, t in enumerate(clause) if is_num(t)]
        used = set()
        for k in nums:
            v = value(clause[k])
            if scale:
                v = scale(clause, k, v)
            if not ms:
                if last_plural:
                    given.setdefault(last_plural, []).append(v)
                else:
                    unplaced.append(v)
                continue
            pos, role, _ = min(ms, key=lambda m: (abs(m[0] - k), m[0] > k))
            used.add(pos)
            given.setdefault(role, []).append(v)
        for pos, role, plural in ms:
            if pos not in used:
                bare.add(role)
        last_plural = ms[-1][1] if ms and ms[-1][2] else (last_plural if not ms else None)
    return given, bare, unplaced


# ------------------------------------------------------------- triangles

def triangle_word(c, k):
    w, before = c[k], (c[k - 1] if k else "")
    after = c[k + 1] if k + 1 < len(c) else ""
    if w == "hypotenuse":
        return "hyp", False
    if w in ("a", "b", "c") and after == "=":
        return ("hyp" if w == "c" else "leg"), False
    if w in ("leg", "legs"):
        return "leg", w == "legs"
    if w in ("side", "sides"):
        if before == "longest":
            return "hyp", False
        if before in ("shortest", "shorter", "short"):
            return "leg", w == "sides"
        if before in ("third", "missing", "other", "unknown"):
            return "asked", False
        return "side", w == "sides"
    return None


def read_pythagoras(text):
    given, bare, unplaced = place(words(text), triangle_word)
    if unplaced:
        return None
    hyp, legs, sides = given.get("hyp", []), given.get("leg", []), given.get("side", [])
    if len(hyp) > 1:
        return None
    if sides and (hyp or "hyp" in bare):
        legs = legs + sides
    elif sides:
        return None  # which side is the hypotenuse is not said
    return {"hyp": hyp[0] if hyp else None, "legs": sorted(legs)}


# ---------------------------------------------------------------- circles

def circle_word(c, k):
    w, after = c[k], (c[k + 1] if k + 1 < len(c) else "")
    if w == "radius" or (w == "r" and after == "="):
        return "r", False
    if w == "diameter" or (w == "d" and after == "="):
        return "d", False
    if w == "area":
        return "A", False
    if w in ("circumference", "perimeter"):
        return "C", False
    return None


def circle_scale(c, k, v):
    before = c[max(0, k - 2):k]
    if "half" in before:
        return v / 2
    if "twice" in before or "double" in before:
        return v * 2
    return v


def read_circle(text):
    given, bare, unplaced = place(words(text), circle_word, circle_scale)
    if unplaced or given.get("A") or given.get("C"):
        return None
    radii = set(given.get("r", [])) | {d / 2 for d in given.get("d", [])}
    if len(radii) != 1:
        return None
    asked = "".join(q for q in "AC" if q in bare) or "AC"
    return {"r": radii.pop(), "asked": asked}


# --------------------------------------------------------------- matrices

def entries(toks):
    """Numbers with their signs: '-' right before a number is its sign."""
    out, k = [], 0
    while k < len(toks):
        t = toks[k]
        if t == "-" and k + 1 < len(toks) and is_num(toks[k + 1]):
            out.append(-value(toks[k + 1]))
            k += 2
            continue
        if is_num(t):
            out.append(value(t))
        k += 1
    return out


def square(flat):
    for n in (2, 3):
        if len(flat) == n * n:
            return [flat[i * n:(i + 1) * n] for i in range(n)]
    return None


def read_determinant(text):
    text = re.sub(r"\b[23]\s*(?:x|by|\*)\s*[23]\b", " ", text)
    toks = words(text)
    # row labels ("row 1:", "row 2") are not entries
    toks = [t for k, t in enumerate(toks) if not (is_num(t) and k and toks[k - 1] in ("row", "column")
                                                  and k + 1 < len(toks) and toks[k + 1] in (":", "="))]
    columns = any(t in ("column", "columns") for t in toks)
    rows, depth, cur, groups = [], 0, [], []
    for t in toks:  # the innermost bracket groups, by a depth count
        if t in ("[", "("):
            depth += 1
            cur = []
        elif t in ("]", ")"):
            depth -= 1
            if cur:
                groups.append(cur)
            cur = []
        elif depth > 0:
            cur.append(t)
    if len(groups) >= 2:
        rows = [entries(g) for g in groups]
    else:
        body = groups[0] if groups else toks
        breakers = {";", "and", "row", "column"}
        if any(t in breakers for t in body):
            chunks, cur = [], []
            for t in body:
                if t in breakers:
                    chunks.append(cur)
                    cur = []
                else:
                    cur.append(t)
            chunks.append(cur)
            rows = [entries(c) for c in chunks]
            rows = [r for r in rows if r]
        else:
            parts = [entries(p.split()) for p in " ".join(body).split(",")]
            if len(parts) > 1 and all(len(p) > 1 for p in parts):
                rows = parts
            else:
                rows = square(entries(body)) or []
    n = len(rows)
    if n not in (2, 3) or any(len(r) != n for r in rows):
        return None
    if columns:
        rows = [list(r) for r in zip(*rows)]
    return {"matrix": rows}


# ------------------------------------------------------------- arithmetic

SMALL = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                     "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
PARTS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
         "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8,
         "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10, "twelfth": 12, "twelfths": 12,
         "hundredth": 100, "hundredths": 100}
FILLER = {"what", "whats", "what's", "is", "s", "how", "much", "calculate", "compute", "evaluate", "work", "out",
          "find", "the", "please", "pls", "simplify", "reduce", "solve", "equals", "equal", "value", "result",
          "give", "me", "tell", "can", "you"}


class Words:
    """Arithmetic in numbers and words: + - * / and plus minus times "divided by" "of" "over";
    a tight a/b is one number; verbs (divide A by B, subtract A from B, the sum of A and B)."""

    def __init__(self, text):
        self.t = []
        for m in re.finditer(r"\d+(?:\.\d+)?|[a-z]+|[-+*/()]|\S", text):
            tok = m.group(0)
            if tok == "/" and m.start() and m.end() < len(text) and text[m.start() - 1].isdigit() and text[m.end()].isdigit():
                tok = "bar"  # a fraction bar, not a division
            if tok == "'":
                continue
            self.t.append(tok)
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self, *want):
        tok = self.peek()
        if want and tok not in want:
            raise Unreadable("expected %s" % (want,))
        self.i += 1
        return tok

    def read(self):
        while self.peek() in FILLER or self.peek() in (",",):
            self.take()
        v = self.verb()
        if v is None:
            v = self.sum()
        while self.peek() in FILLER or self.peek() in (",",):
            self.take()
        if self.peek() is not None:
            raise Unreadable("left over")
        return v

    def verb(self):
        w = self.peek()
        pairs = {"divide": ("by", lambda a, b: a / b), "subtract": ("from", lambda a, b: b - a),
                 "multiply": ("by", lambda a, b: a * b), "add": ("to", lambda a, b: a + b)}
        if w in pairs:
            self.take()
            sep, fn = pairs[w]
            a = self.sum(stop={sep, "and", "with"})
            if self.peek() not in (sep, "and", "with") or (w in ("divide", "subtract") and self.peek() != sep):
                raise Unreadable("verb")
            self.take()
            return fn(a, self.sum())
        if w == "take":
            self.take()
            if self.peek() == "away":
                self.take()
            a = self.sum(stop={"away", "from"})
            if self.peek() == "away":
                self.take()
            self.take("from")
            return self.sum() - a
        if w in ("sum", "product", "difference", "quotient"):
            self.take()
            self.take("of", "between")
            a = self.sum(stop={"and"})
            self.take("and")
            b = self.sum()
            return {"sum": a + b, "product": a * b, "difference": a - b,
                    "quotient": a / b if b else self.zero()}[w]
        return None

    def zero(self):
        raise Unreadable("divides by zero")

    def sum(self, stop=()):
        v = self.product(stop)
        while (self.peek() in ("+", "-", "plus", "minus") or self.peek() == "take" and self.peek(1) == "away") \
                and self.peek() not in stop:
            op = self.take()
            if op == "take":
                self.take()
                op = "-"
            w = self.product(stop)
            v = v + w if op in ("+", "plus") else v - w
        return v

    def product(self, stop):
        v = self.unary(stop)
        while True:
            tok = self.peek()
            if tok in stop:
                return v
            if tok in ("*", "times", "of"):
                self.take()
            elif tok == "multiplied" and self.peek(1) == "by":
                self.take(), self.take()
            elif tok == "/" or (tok == "divided" and self.peek(1) == "by"):
                self.take()
                if tok == "divided":
                    self.take()
                w = self.unary(stop)
                if w == 0:
                    self.zero()
                v = v / w
                continue
            else:
                return v
            v = v * self.unary(stop)

    def unary(self, stop):
        if self.peek() == "-":
            self.take()
            return -self.unary(stop)
        if self.peek() == "(":
            self.take()
            v = self.sum()
            self.take(")")
            return v
        return self.number()

    def count(self):
        """A whole number in digits or words, or None."""
        tok = self.peek()
        if tok is not None and re.fullmatch(r"\d+", tok):
            self.take()
            return int(tok)
        if tok in SMALL:
            self.take()
            return SMALL[tok]
        if tok in TENS:
            self.take()
            n = TENS[tok]
            if self.peek() == "-" and self.peek(1) in SMALL:
                self.take()
            if self.peek() in SMALL and SMALL[self.peek()] < 10:
                n += SMALL[self.take()]
            return n
        return None

    def number(self):
        tok = self.peek()
        if tok is not None and re.fullmatch(r"\d+\.\d+", tok):
            self.take()
            return Fraction(tok)
        if tok in ("a", "an") and self.peek(1) in PARTS:
            self.take()
            return Fraction(1, PARTS[self.take()])
        if tok in PARTS:  # "half of 10"
            self.take()
            return Fraction(1, PARTS[tok])
        n = self.count()
        if n is None:
            raise Unreadable("a number")
        if self.peek() == "bar":
            self.take()
            return Fraction(n, self.nonzero(self.count()))
        if self.peek() == "over":
            self.take()
            return Fraction(n, self.nonzero(self.count()))
        if self.peek() in PARTS:
            return Fraction(n, PARTS[self.take()])
        # a mixed number: 2 1/2, two and a half, one and three quarters
        if self.peek() is not None and re.fullmatch(r"\d+", self.peek()) and self.peek(1) == "bar":
            top = self.count()
            self.take()
            return n + Fraction(top, self.nonzero(self.count()))
        if self.peek() == "and" and (self.peek(1) in ("a", "an") and self.peek(2) in PARTS
                                     or self.peek(1) in SMALL and self.peek(2) in PARTS):
            self.take()
            top = 1 if self.peek() in ("a", "an") else SMALL[self.peek()]
            self.take()
            return n + Fraction(top, PARTS[self.take()])
        return Fraction(n)

    def nonzero(self, n):
        if not n:
            self.zero()
        return n


def read_fractions(text):
    return {"value": Words(text).read()}


# --------------------------------------------------------------- formulas

def formula_spans(text):
    return [s for s in rx.spans(rx.lex(text))]


def strip_lhs(span):
    """y = ..., f(x) = ...: the function's name is not part of it."""
    k = [i for i, t in enumerate(span) if t == ("op", "=")]
    if len(k) == 1:
        left = span[:k[0]]
        names = [v for kind, v in left if kind == "name"]
        if left and (names in (["y"], ["f", "x"], ["f", "t"], ["g", "x"]) and len(left) in (1, 4)):
            return span[k[0] + 1:]
    return span


def trivial(span):
    """A lone letter or number, or a few letters left from words ("for x", "os"): not a second formula."""
    return len(span) <= 1 or (len(span) <= 2 and all(kind == "name" for kind, _ in span))


def main_formula(text):
    """The one formula of the text: the longest span; any other must be a lone letter or number."""
    runs = [strip_lhs(s) for s in formula_spans(text)]
    runs = [r for r in runs if r]
    if not runs:
        raise Unreadable("no formula")
    best = max(runs, key=len)
    if sum(1 for r in runs if not trivial(r)) > 1:
        raise Unreadable("two formulas")
    return rx.parse(best)


DERIV_MARKS = [r"\(\s*d/d[a-z]\s*\)", r"\bd/d([a-z])", r"\bd[a-z]/d([a-z])\b", r"\bwith respect to ([a-z])\b",
               r"\bw\.?r\.?t\.? ([a-z])\b", r"\b[a-z]'\s*\(([a-z])\)", r"\b[a-z]'"]


def cut(text, pats):
    """Removes every marker; returns (text, the first letter a marker named)."""
    var = None
    for p in pats:
        for m in re.finditer(p, text):
            if var is None and m.lastindex and m.group(1):
                var = m.group(1)
        text = re.sub(p, " ; ", text)
    return text, var


def letter(e, hint):
    if hint:
        return sp.Symbol(hint)
    syms = sorted(e.free_symbols, key=str)
    if len(syms) == 1:
        return syms[0]
    return sp.Symbol("x")


def read_derivative(text):
    rest, var = cut(text, DERIV_MARKS)
    f = main_formula(rest)
    return {"f": f, "var": letter(f, var)}


def read_integral(text):
    m = re.search(r"\bd([a-z])\s*$", text) or re.search(r"\bwith respect to ([a-z])\b", text) or \
        re.search(r"\bd([a-z])\b", text)
    var = m.group(1) if m else None
    rest = re.sub(r"\bd[a-z]\b|\bwith respect to [a-z]\b|\bwrt [a-z]\b", " ; ", text)
    f = main_formula(rest)
    return {"f": f, "var": letter(f, var)}


def bound_value(toks):
    """A bound or point: a number, a constant, a fraction of them; '-' in front."""
    e = rx.parse(toks)
    if e.free_symbols:
        raise Unreadable("bound with a letter")
    return e


def read_bounds(text):
    """The bounds by a scan of the words: from A to B, between A and B, lower/upper limit, [A, B],
    _A^B, A to B of. Returns (lo, hi, letter or None, text without them)."""
    toks = text.split()
    found = []

    def one(k):
        """A bound starting at word k, maybe written "x = 1": (value text, letter, next k)."""
        if k + 2 < len(toks) and re.fullmatch(r"[a-z]", toks[k]) and toks[k + 1] == "=":
            return toks[k + 2], toks[k], k + 3
        m = re.fullmatch(r"([a-z])=(\S+)", toks[k]) if k < len(toks) else None
        if m:
            return m.group(2), m.group(1), k + 1
        return (toks[k], None, k + 1) if k < len(toks) else (None, None, k)

    for k, w in enumerate(toks):
        pair = None
        if w in ("from", "between"):
            a, va, j = one(k + 1)
            if a is not None and j < len(toks) and toks[j] == ("to" if w == "from" else "and"):
                b, vb, j2 = one(j + 1)
                if b is not None and (w == "from" or re.match(r"[-+]?(\d|pi|e\b|oo|inf)", a) and re.match(r"[-+]?(\d|pi|e\b|oo|inf)", b)):
                    pair = (a, b, va or vb, k, j2)
        elif w in ("lower", "upper") and k + 1 < len(toks) and toks[k + 1] in ("limit", "bound"):
            j = k + 2
            if j < len(toks) and toks[j] in ("of", "is", "="):
                j += 1
            if j < len(toks):
                first = toks[j].strip(",")
                rest = toks[j + 1:]
                other = "upper" if w == "lower" else "lower"
                for q in range(len(rest) - 1):
                    if rest[q] == other and rest[q + 1] in ("limit", "bound"):
                        r = q + 2
                        if r < len(rest) and rest[r] in ("of", "is", "="):
                            r += 1
                        if r < len(rest):
                            second = rest[r]
                            lo, hi = (first, second) if w == "lower" else (second, first)
                            pair = (lo, hi, None, k, j + 1 + r + 1)
                        break
        elif w in ("integral", "integrate") and k + 3 < len(toks) and toks[k + 2] == "to" and toks[k + 3 + 1:k + 5] == ["of"] \
                and re.match(r"[-+]?(\d|pi|e\b)", toks[k + 1]):
            pair = (toks[k + 1], toks[k + 3], None, k + 1, k + 4)
        if pair:
            found.append(pair)
    m = re.search(r"\[\s*([^,\]\s]+)\s*,\s*([^\]\s]+)\s*\]", text)
    sub = re.search(r"integral\s*_\s*\{?\s*([^\s{}^]+?)\s*\}?\s*\^\s*\{?\s*([^\s{}]+?)\s*\}?(?=\s|\(|$)", text)
    if len(found) + bool(m) + bool(sub) != 1:
        raise Unreadable("bounds")
    if found:
        lo, hi, var, k, j = found[0]
        rest = " ".join(toks[:k] + [";"] + toks[j:])
    else:
        g = m or sub
        lo, hi, var = g.group(1), g.group(2), None
        rest = text[:g.start()] + " ; " + text[g.end():]
    return bound_value(rx.lex(lo.strip(",;"))), bound_value(rx.lex(hi.strip(",;"))), var, rest


def read_definite(text):
    lo, hi, var, rest = read_bounds(text)
    m = re.search(r"\bd([a-z])\b", rest)
    rest = re.sub(r"\bd[a-z]\b|\bwith respect to [a-z]\b", " ; ", rest)
    rest = re.sub(r"\bthe x-axis\b|\bx-axis\b", " ; ", rest)
    f = main_formula(rest)
    x = letter(f, var or (m.group(1) if m else None))
    if re.search(r"\barea\b", text) and (lo.is_real and hi.is_real) and lo > hi:
        lo, hi = hi, lo  # an area has no direction
    return {"f": f, "var": x, "a": lo, "b": hi}


LIMIT_GO = r"(?:->|approaches|approaching|goes to|going to|tends to|tends towards|tending to|heads to|gets close to)"


def read_limit(text):
    m = re.search(r"\b([a-z])\s*" + LIMIT_GO + r"\s*(-?\s*(?:\d+(?:\.\d+)?|pi|e|oo|infinity|inf)(?:\s*/\s*\d+)?)([+-](?![\d(a-z]))?", text) or \
        re.search(r"\b(?:at|when|where)\s+([a-z])\s*=\s*(-?\s*(?:\d+(?:\.\d+)?|pi|e)(?:\s*/\s*\d+)?)()", text)
    if not m:
        raise Unreadable("limit point")
    point = bound_value(rx.lex(m.group(2)))
    side = m.group(3) or None
    if re.search(r"from the (left|below)|\bleft\b", text):
        side = "-"
    elif re.search(r"from the (right|above)|\bright\b", text):
        side = "+"
    rest = text[:m.start()] + " ; " + text[m.end():]
    rest = re.sub(r"\blim(?:it)?\b|_|\bas\b", " ; ", rest)
    rest = re.sub(r"[{}]", " ", rest)
    rest = re.sub(r"\(\s*;\s*\)", " ; ", rest)
    f = main_formula(rest)
    return {"f": f, "var": sp.Symbol(m.group(1)), "point": point, "side": side}


def read_plot(text):
    rest = re.sub(r"\b(?:from|between)\s+\S+\s+(?:to|and)\s+\S+|\b(?:on|over|in)\s+\[[^\]]*\]", " ; ", text)
    rest = re.sub(r"\bfor [a-z]\b", " ; ", rest)
    return {"f": main_formula(rest)}


def read_expression(text):
    return {"f": main_formula(text)}


def equations(text):
    """Every equation of the text as left - right, in order."""
    out = []
    for span in formula_spans(text):
        cuts = [i for i, t in enumerate(span) if t == ("op", "=")]
        if len(cuts) == 1:
            out.append(rx.parse(span[:cuts[0]]) - rx.parse(span[cuts[0] + 1:]))
        elif len(cuts) > 1:
            raise Unreadable("a chain of =")
    return out


def read_equation(text):
    text = re.sub(r"\bfor [a-z]\b", " ; ", text)
    eqs = equations(text)
    if not eqs:
        return {"equation": main_formula(text)}
    if len(eqs) != 1:
        raise Unreadable("equations")
    return {"equation": eqs[0]}


def read_system(text):
    eqs = equations(text)
    if len(eqs) != 2:
        raise Unreadable("two equations")
    return {"equations": eqs}


# ----------------------------------------------------------------- series

def read_series(text):
    toks = words(text)
    nums = lambda k: k < len(toks) and (is_num(toks[k]) or toks[k] == "-" and k + 1 < len(toks) and is_num(toks[k + 1]))

    def num_at(k):
        return (-value(toks[k + 1]), k + 2) if toks[k] == "-" else (value(toks[k]), k + 1)

    # the listed terms: numbers joined by , or +, then "..." (three dots are three "." words)
    terms, last, k = [], None, 0
    while k < len(toks):
        if nums(k):
            run, j = [], k
            while nums(j):
                v, j = num_at(j)
                run.append(v)
                if j < len(toks) and toks[j] in (",", "+") and nums(j + 1):
                    j += 1
                else:
                    break
            dots = toks[j:j + 4]
            if len(run) >= 2 and (dots[:3] == [".", ".", "."] or dots[1:4] == [".", ".", "."] or len(run) >= 3):
                terms = run
                q = j + (3 if dots[:3] == [".", ".", "."] else 4 if dots[1:4] == [".", ".", "."] else 0)
                if q and q < len(toks) and toks[q] in (",", "+") and nums(q + 1):
                    last, _ = num_at(q + 1)
                break
            k = j
        k += 1
    joined = " ".join(toks)

    def after(pat):
        m = re.search(pat + r"\s*(?:is|of|=|:)?\s*(-\s*)?(\d+(?:\.\d+)?(?:/\d+)?)", joined)
        if not m:
            return None
        v = value(m.group(2))
        return -v if m.group(1) else v

    n = None
    m = re.search(r"\b(?:first\s+)?(\d+)\s+terms?\b|\bn\s*=\s*(\d+)", joined)
    if m:
        n = int(m.group(1) or m.group(2))
    infinite = re.search(r"\binfinite|\binfinity\b|\boo\b|\bforever\b", joined) is not None
    kind = "arithmetic" if "arithmetic" in toks else "geometric" if "geometric" in toks else None
    if terms:
        a1 = terms[0]
        diffs = {terms[i + 1] - terms[i] for i in range(len(terms) - 1)}
        ratios = {terms[i + 1] / terms[i] for i in range(len(terms) - 1)} if 0 not in terms else set()
        if kind is None:
            kind = "arithmetic" if len(diffs) == 1 and (len(terms) > 2 or len(ratios) != 1) else \
                "geometric" if len(ratios) == 1 else None
        step = (diffs if kind == "arithmetic" else ratios)
        if kind is None or len(step) != 1:
            raise Unreadable("terms")
        step = step.pop()
    else:
        a1 = after(r"\ba\s*_?\s*1") or after(r"\bfirst term") or after(r"\ba") or after(r"\bstarting (?:at|from|with)")
        d, r = after(r"\bd") or after(r"\bdifference"), after(r"\br") or after(r"\bratio")
        kind = kind or ("arithmetic" if d is not None else "geometric" if r is not None else None)
        step = d if kind == "arithmetic" else r
    if kind is None or a1 is None or step is None:
        raise Unreadable("series")
    if n is None and last is not None:
        if kind == "arithmetic" and step:
            n = int((last - a1) / step) + 1
        elif kind == "geometric":
            t, n = a1, 1
            while t != last and n < 200:
                t, n = t * step, n + 1
    if n is None and not infinite and not (kind == "geometric" and terms):
        raise Unreadable("how many terms")
    return {"kind": kind, "a1": a1, "step": step, "n": n}


# ---------------------------------------------------------------- agreeing

READERS = {"pythagoras": ("role words, clause by clause", read_pythagoras),
           "circle": ("role words, clause by clause", read_circle),
           "determinant": ("a bracket and separator scan", read_determinant),
           "fractions": ("a grammar of numbers and words", read_fractions),
           "definite_integral": ("a token parser and a scan for bounds", read_definite),
           "integral": ("a token parser", read_integral),
           "derivative": ("a token parser", read_derivative),
           "limit": ("a token parser and a scan for the point", read_limit),
           "plot": ("a token parser", read_plot),
           "factor": ("a token parser", read_expression),
           "expand": ("a token parser", read_expression),
           "simplify": ("a token parser", read_expression),
           "linear": ("a token parser", read_equation),
           "quadratic": ("a token parser", read_equation),
           "system": ("a token parser", read_system),
           "arithmetic_series": ("a scan of the terms", read_series),
           "geometric_series": ("a scan of the terms", read_series)}

PHRASE = {"pythagoras": "\"the hypotenuse is 13 and one leg is 5\" or \"legs 3 and 4, find the hypotenuse\"",
          "circle": "\"area of a circle with radius 5\" or \"circumference of a circle with diameter 10\"",
          "determinant": "\"determinant of [[1, 2], [3, 4]]\" (one bracket per row)",
          "fractions": "\"3/4 divided by 1/2\" or \"2/3 of 9\"",
          "definite_integral": "\"integrate x^2 from x = 1 to x = 3\"",
          "integral": "\"integrate x^2 dx\"",
          "derivative": "\"differentiate x^3 sin(x)\"",
          "limit": "\"limit of sin(x)/x as x approaches 0\"",
          "plot": "\"plot y = x^2 - 4\"",
          "factor": "\"factor x^2 - 9\"", "expand": "\"expand (x + 2)^3\"", "simplify": "\"simplify (x^2 - 1)/(x - 1)\"",
          "linear": "\"solve 3x + 5 = 20\"", "quadratic": "\"solve x^2 - 5x + 6 = 0\"",
          "system": "\"2x + y = 7 and x - y = 2\"",
          "arithmetic_series": "\"sum of the first 20 terms of 3, 7, 11, ...\"",
          "geometric_series": "\"sum of the first 8 terms of 2, 6, 18, ...\""}


# Families whose numbers have roles (sides, radius or diameter, rows, bounds, operands in words).
ROLE_FAMILIES = {"pythagoras", "circle", "determinant", "definite_integral", "fractions"}


def num_eq(a, b):
    try:
        a, b = sp.sympify(a), sp.sympify(b)
        if a == b:
            return True
        if a.is_infinite or b.is_infinite:
            return False
        return sp.simplify(a - b) == 0
    except (TypeError, ValueError):
        return False


def agree(family, first, second):
    """Whether two readings name the same quantities (formulas as functions, numbers exactly)."""
    if family == "pythagoras":
        return num_eq(first["hyp"] or 0, second["hyp"] or 0) and (first["hyp"] is None) == (second["hyp"] is None) \
            and len(first["legs"]) == len(second["legs"]) \
            and all(num_eq(a, b) for a, b in zip(sorted(first["legs"]), sorted(second["legs"])))
    if family == "circle":
        return num_eq(first["r"], second["r"]) and first["asked"] == second["asked"]
    if family == "determinant":
        return len(first["matrix"]) == len(second["matrix"]) and all(
            len(r1) == len(r2) and all(num_eq(a, b) for a, b in zip(r1, r2)) for r1, r2 in zip(first["matrix"], second["matrix"]))
    if family == "fractions":
        return num_eq(first["value"], second["value"])
    if family in ("integral", "derivative"):
        return first["var"] == second["var"] and rx.same(first["f"], second["f"])
    if family == "definite_integral":
        return first["var"] == second["var"] and rx.same(first["f"], second["f"]) and \
            num_eq(first["a"], second["a"]) and num_eq(first["b"], second["b"])
    if family == "limit":
        return first["var"] == second["var"] and rx.same(first["f"], second["f"]) and \
            num_eq(first["point"], second["point"]) and first["side"] == second["side"]
    if family in ("plot", "factor", "expand", "simplify"):
        return rx.same(first["f"], second["f"])
    if family in ("linear", "quadratic"):
        return rx.same(first["equation"], second["equation"]) or rx.same(first["equation"], -second["equation"])
    if family == "system":
        a, b = first["equations"], second["equations"]
        match = lambda p, q: rx.same(p, q) or rx.same(p, -q)
        return (match(a[0], b[0]) and match(a[1], b[1])) or (match(a[0], b[1]) and match(a[1], b[0]))
    if family in ("arithmetic_series", "geometric_series"):
        return first["kind"] == second["kind"] and num_eq(first["a1"], second["a1"]) and \
            num_eq(first["step"], second["step"]) and (first["n"] is None) == (second["n"] is None) and \
            (first["n"] is None or int(first["n"]) == int(second["n"]))
    return False


def confirm(reply, text):
    """The reply, once a second reading of the text agrees with the family's; else Unsupported."""
    first = reply.get("reading")  # solve() takes it off the reply (and may hold it against a model's)
    family = reply["family"]
    name, reader = READERS[family]
    how = PHRASE[family]
    if first is None:
        raise Unsupported("I could not check my reading of that problem a second way. Phrase it like %s." % how)
    try:
        second = reader(text)
    except (Unreadable, ZeroDivisionError, ValueError, TypeError, IndexError, KeyError):
        second = None
    if second is None and family in ROLE_FAMILIES:
        raise Unsupported("I'm not certain I read every number of that problem in its right role, so I won't "
                          "guess an answer. Phrase it like %s." % how)
    if second is None:
        raise Unsupported("I couldn't confirm my reading of that formula a second way, so I won't guess an "
                          "answer. Write it like %s." % how)
    if not agree(family, first, second):
        raise Unsupported("I read that problem two ways and they don't agree, so I won't guess an answer. "
                          "Phrase it like %s." % how)
    reply["readings"] = 2
    reply["second_reading"] = name
    return reply
