"""Determinants of 2x2 and 3x3 matrices of numbers."""
import math
import re

from .base import MAX_EXPR, Unsupported
from .helpers import rat, with_reading
from .printing import paren, plain, tex
from . import checks
from .scene import result, scene


def outside_brackets(s, fn):
    """fn applied to the text outside [ ] and ( ): letters inside a matrix must stay, to be refused."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "[(" and depth == 0:
            out.append(fn(cur))
            cur = ""
        depth += (ch in "[(") - (ch in "])")
        cur += ch
        if ch in "])" and depth == 0:
            out.append(cur)
            cur = ""
    out.append(fn(cur) if depth == 0 else cur)
    return "".join(out)


def drop_words(s):
    s = re.sub(r"\b[a-z]{2,}\b|'", " ", s)
    return re.sub(r"(?<![\w.])[a-z](?![\w.])", " ", s)  # a lone letter names the matrix (A = ..., det A)


def parse_matrix(text):
    """The matrix by rows ("rows 1 2 and 3 4", "first row ... second row ...", "[[1,2],[3,4]]"), or by
    columns when it says so; refused when any entry is not a number."""
    text = re.sub(r"\b[23]\s*(?:x|by|\*)\s*[23]\b", " ", text)
    columns = re.search(r"\bcolumns?\b", text) is not None
    text = re.sub(r"\b(?:row|column)\s*\d\s*[:=]?|\b(?:first|second|third)\s+(?:row|column)\b", " ; ", text)
    text = re.sub(r"(?<=\d)\s+and\s+(?=-?\d)", "; ", text)
    text = re.sub(r"(?<=[\])])\s*(?:,|and)?\s*(?=[\[(])", ", ", text)
    s = outside_brackets(text, drop_words)
    s = re.sub(r"=", " ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,;:")
    if len(s) > MAX_EXPR:
        raise Unsupported("That matrix is too long for me.")
    if re.search(r"[^0-9\s,;.\-+/\[\]()|]", s):
        raise Unsupported("Write the matrix with numbers only, e.g. \"determinant of [[1,2],[3,4]]\" or "
                          "\"det 1 2; 3 4\".")
    s = s.strip().strip("|")
    inner = re.findall(r"[\[(]([^\[\]()]*)[\])]", s)
    if len(inner) >= 2:
        rows = inner
    else:
        s2 = s.strip("[]() ")
        rows = [r for r in re.split(r"[;|]|\]\s*,?\s*\[", s2) if r.strip()]
        if len(rows) == 1:
            vals = [v for v in re.split(r"[\s,]+", rows[0]) if v]
            k = int(round(math.sqrt(len(vals))))
            if k * k == len(vals) and k in (2, 3):
                rows = [" ".join(vals[i * k:(i + 1) * k]) for i in range(k)]
    matrix = []
    for row in rows:
        vals = [v for v in re.split(r"[\s,]+", row.strip()) if v]
        out = []
        for v in vals:
            if not re.match(r"^[-+]?\d+(?:\.\d+)?(?:/\d+)?$", v) or len(v) > 12:
                raise Unsupported("Each matrix entry must be a number, e.g. [[1,2],[3,4]].")
            out.append(rat(v.lstrip("+")))
        matrix.append(out)
    n = len(matrix)
    if n not in (2, 3) or any(len(r) != n for r in matrix):
        raise Unsupported("I compute determinants of 2x2 and 3x3 matrices, e.g. \"det [[1,2],[3,4]]\".")
    return [list(r) for r in zip(*matrix)] if columns else matrix


def vm(rows):
    return r"\begin{vmatrix} %s \end{vmatrix}" % r" \\ ".join(" & ".join(tex(v) for v in r) for r in rows)


def solve_determinant(text):
    M = parse_matrix(text)
    n = len(M)
    title = r"\det %s" % vm(M).replace("vmatrix", "pmatrix")
    steps = []
    if n == 2:
        (a, b), (c, d) = M
        det = a * d - b * c
        steps.append(["Rule", r"\begin{vmatrix} a & b \\ c & d \end{vmatrix} = ad - bc"])
        steps.append(["Substitute", r"%s \cdot %s - %s \cdot %s" % (paren(a), paren(d), paren(b), paren(c))])
        steps.append(["", r"= %s - %s" % (tex(a * d), paren(b * c))])
    else:
        (a, b, c), (d, e, f), (g, h, i) = M
        det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        steps.append(["Expand along row 1", r"%s%s - %s%s + %s%s" % (
            paren(a), vm([[e, f], [h, i]]), paren(b), vm([[d, f], [g, i]]), paren(c), vm([[d, e], [g, h]]))])
        steps.append(["2x2 minors", r"%s\left(%s\right) - %s\left(%s\right) + %s\left(%s\right)" % (
            paren(a), tex(e * i - f * h), paren(b), tex(d * i - f * g), paren(c), tex(d * h - e * g))])
        steps.append(["", r"= %s - %s + %s" % (tex(a * (e * i - f * h)), paren(b * (d * i - f * g)), paren(c * (d * h - e * g)))])
    alatex = r"\det = %s" % tex(det)
    code = scene(title, steps, alatex, check=checks.determinant(M, det))
    out = result("determinant", "det = %s" % plain(det), alatex, code,
                 "[" + ", ".join("[" + ", ".join(str(v) for v in r) + "]" for r in M) + "]")
    return with_reading(out, matrix=M)
