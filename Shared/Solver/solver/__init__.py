"""mathreel's offline solver: no network, no model. One module per problem family
(family_*.py) over shared parsing, printing, curves and one scene template.

Owns: recognising the supported problem families in plain English and notation,
checking the person's text (allow-list, length, names) before SymPy sees it, the
maths, the answer text, and the Manim CE scene source. The scene is a fixed
template plus data literals made only by SymPy or numpy (repr), so no text from
the person ever reaches it.

Protocol (run as `python -I -B solver_main.py`, which runs solver.worker.main();
one JSON object per line, ASCII-escaped):
  at start  -> {"ready": true}            (after SymPy is imported and warmed up)
  request   <- {"problem": "<text>", "context": "<previous problem or empty>", "restated"?: "<text>"}
  solved    -> {"ok": true, "family": F, "answer": A, "answer_latex": L, "code": C,
                "scene": "Solution", "expression": E, "lesson": [...], "readings": 2,
                "second_reading": R}
  not solved-> {"ok": false, "error": "unsupported_problem", "message": M}
  bad line  -> {"ok": false, "error": "bad_request", "message": M}  (not JSON, no
               "problem" string, or an empty line)
  Exactly one reply per request line, until EOF. A request is stopped after
  worker.REQUEST_SECONDS. `context` is used only for follow-ups ("now plot it",
  "what about x^3?"). E is SymPy's str of what was solved, with ^ for powers.

Two readings (issue 14). A family reads the problem (each number by its role: leg or
hypotenuse, radius or diameter, rows or columns, lower or upper bound), refusing when a
role is not certain; then reading.py reads the text again by other means, and a
problem whose two readings differ is refused with how to phrase it. "readings": 2 says
both agreed; R names how the second one read (e.g. "role words, clause by clause").
With "restated" (a helper model's plain restatement of the problem), the family also
reads the restatement: other quantities are refused; the same ones add
"model_reading": "agrees" and "readings": 3; a restatement we cannot read, or read as
another kind of problem, adds "model_reading": "not_comparable".


Families: linear quadratic system derivative integral definite_integral limit plot
factor expand simplify fractions pythagoras circle arithmetic_series
geometric_series determinant.

Answer text. Expressions are SymPy's str with: ^ for powers, `*` kept except after
a leading number (3x^2*sin(x), 2e^(3x)), ln for the natural log, e^x / e^(...) for
exp, e, π, i, ∞, √(...) for square roots, |...| for abs; asin/acos/atan as SymPy
names them. " ≈ d" (4 decimal places unless said) follows an exact value that is
irrational. Parse one back with SymPy after replacing π->pi, √->sqrt, ∞->oo,
|a|->abs(a), ln->log, e->E, i->I, using implicit multiplication.
  linear             "x = 5"
  quadratic          "x = 2, x = 3" ascending; one entry for a double root;
                     "x = 1 - √(2) ≈ -0.4142, x = 1 + √(2) ≈ 2.4142";
                     complex roots "x = -1 - 2i, x = -1 + 2i"
  system             "x = 3, y = 1" (variables in alphabetical order)
  derivative         "f'(x) = x^3*cos(x) + 3x^2*sin(x)" (f'(t) for d/dt)
  integral           "F(x) = x^3/3 + C"; 1/u integrates to ln(|u|)
  definite_integral  "= 9", or "= π ≈ 3.1416" when irrational
  limit              "= 1", "= e ≈ 2.7183", "= ∞", "= -∞"
  plot               "y = x^2 - 4", then optional "; x-intercepts: -2, 2" and
                     "; y-intercept: -4"
  factor             the factored form "(x - 3)*(x + 3)" (the input itself when irreducible)
  expand, simplify   the resulting expression, e.g. "x^3 + 6x^2 + 12x + 8", "x + 1"
  fractions          "= 5/4 = 1.25" (terminating), "= 2/3 ≈ 0.6667", "= 3"; also in words
                     ("three quarters divided by one half", "subtract 1/3 from 3/4");
                     a spaced / divides, a tight one is a fraction bar (3 / 3/4 = 4)
  pythagoras         the missing side: "5", "√(41) ≈ 6.4031"; "6.5" when the
                     question used decimals and the side is a terminating decimal
  circle             "A = 25π ≈ 78.54, C = 10π ≈ 31.42" (2 places; only what was
                     asked, both when unclear)
  arithmetic_series  "S_20 = 820"
  geometric_series   "S_8 = 6560", "S_∞ = 6"; "S_60 ≈ 5.999999" when the exact
                     fraction is huge
  determinant        "det = -2"
"""
