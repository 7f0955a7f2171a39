"""A solved problem as a lesson of three scenes: the problem, the method and its steps,
the answer and its check. Each scene is its own file and Scene class, a fixed template
plus repr() data only (as scene.py's single scene), so each renders, caches and can be
replaced alone. Headings and the method are plain text (Pango), never LaTeX."""
from .scene import CIRCLE, GRAPH, ROWS, TRIANGLE, TRIANGLE_TAIL, plain_data, vis_len

HEAD = r'''from manim import *
import numpy as np


class {cls}(Scene):
    def construct(self):
        title_tex = {title}
        wide = {wide}
        heading = Text({heading}, font_size=26, color=GREY_B).to_corner(UL, buff=0.3)
        title = MathTex(title_tex)
        if title.height > 1.3:
            title.scale_to_fit_height(1.3)
        if title.width > 12.4:
            title.scale_to_fit_width(12.4)
        title.next_to(heading, DOWN, buff=0.3).set_x(0)
        self.play(FadeIn(heading), Write(title), run_time=1.2)
'''

NOFIGURE = r'''        marks = VGroup()
        side = False
'''

PROBLEM = r'''        ask = Text({ask}, font_size=30)
        if ask.width > (6.0 if side else 12.0):
            ask.scale_to_fit_width(6.0 if side else 12.0)
        ask.next_to(title, DOWN, buff=0.8)
        if side:
            ask.set_x(-3.45)
        self.play(FadeIn(ask, shift=UP * 0.2), run_time=0.8)
        self.wait(2.0)
'''

STEPS = r'''        method = Text({method}, font_size=26, color=BLUE_B)
        if method.width > 12.0:
            method.scale_to_fit_width(12.0)
        method.next_to(title, DOWN, buff=0.35)
        self.play(FadeIn(method), run_time=0.8)
        if len(rows) > 0:
            room = method.get_bottom()[1] + 3.85 - 0.3
            rows.arrange(DOWN, buff=0.3)
            if rows.height > room:
                rows.scale_to_fit_height(room)
            grow = min(1.3, room / rows.height, panel_w / rows.width)
            if grow > 1.05:
                rows.scale(grow)
            rows.next_to(method, DOWN, buff=0.4).set_x(0)
            pace = 1.0 if len(rows) <= 5 else 0.8
            for row in rows:
                self.play(Write(row), run_time=pace)
                self.wait(0.5 * pace)
        self.wait(1.5)
'''

ANSWER = r'''        answer = MathTex({answer}, color=YELLOW)
        if answer.width > panel_w - 0.4:
            answer.scale_to_fit_width(panel_w - 0.4)
        box = SurroundingRectangle(answer, color=YELLOW, buff=0.18)
        block = VGroup(VGroup(answer, box), *rows).arrange(DOWN, buff=0.35)
        room = title.get_bottom()[1] + 3.85 - 0.35
        if block.height > room:
            block.scale_to_fit_height(room)
        block.next_to(title, DOWN, buff=0.45)
        block.set_x(-3.45 if side else 0)
        self.play(Write(answer), run_time=1.0)
        finish = [Create(box)]
        if len(marks) > 0:
            finish.append(FadeIn(marks))
        self.play(*finish, run_time=0.8)
        for row in rows:
            self.play(Write(row), run_time=0.9)
            self.wait(0.3)
        self.wait(2.0)
'''

SCENES = ("Problem", "Steps", "Answer")
TITLES = ("The problem", "The method and steps", "The answer and its check")

# what each family asks, and the method, in plain words (shown with Text, spoken later)
ASK = {"linear": "Solve the equation.", "quadratic": "Find every root of the quadratic.",
       "system": "Find the values that satisfy both equations.", "derivative": "Find the derivative.",
       "integral": "Find the antiderivative.", "definite_integral": "Evaluate the integral between its bounds.",
       "limit": "Find the limit.", "plot": "Plot the curve and mark where it crosses the axes.",
       "factor": "Factor the expression.", "expand": "Expand the expression.", "simplify": "Simplify the expression.",
       "fractions": "Work out the value.", "pythagoras": "Find the missing side of the right triangle.",
       "circle": "Find what is asked about the circle.", "arithmetic_series": "Add up the terms.",
       "geometric_series": "Add up the terms.", "determinant": "Find the determinant."}
METHOD = {"linear": "Do the same to both sides until the unknown stands alone.",
          "quadratic": "Bring every term to one side, then factor or use the quadratic formula.",
          "system": "Eliminate one unknown, solve for the other, then substitute back.",
          "derivative": "Apply the differentiation rules, one part at a time.",
          "integral": "Find a function whose derivative is the integrand.",
          "definite_integral": "Find an antiderivative, then subtract its values at the bounds.",
          "limit": "Rewrite the expression until the limit can be read off.",
          "plot": "Find where the curve meets the axes, then draw it.",
          "factor": "Look for a common factor and a known pattern.",
          "expand": "Multiply every term by every term, then collect like terms.",
          "simplify": "Factor, cancel and combine like terms.",
          "fractions": "One operation at a time, with a common denominator for sums.",
          "pythagoras": "The squares of the legs add up to the square of the hypotenuse.",
          "circle": "Use the radius in the area and circumference formulas.",
          "arithmetic_series": "Use the sum formula for an arithmetic series.",
          "geometric_series": "Use the sum formula for a geometric series.",
          "determinant": "Expand the determinant by its rule."}


def figure_code(graph, triangle, circle):
    if graph is not None:
        return GRAPH.format(graph=repr(graph))
    if triangle is not None:
        return TRIANGLE.format(figure=repr(triangle))
    if circle is not None:
        return CIRCLE.format(figure=repr(circle))
    return NOFIGURE


def spoken(words):
    """A row's words as a sentence (the LaTeX-free label: "Divide by $2$" -> "Divide by 2.")."""
    words = words.replace("$", "").replace("\\", "").strip()
    return words[:1].upper() + words[1:] + ("" if words.endswith(".") else ".") if words else ""


def lesson(family, title, steps, answer, check, answer_plain, graph=None, triangle=None, circle=None):
    """The three scenes of one solved problem: [{title, goal, narration, code, scene}]."""
    check = [[w, s] for w, s in (check or []) if s][:3]
    if not plain_data([title, steps, answer, check, graph, triangle, circle]):
        return None
    widest = max([vis_len(s) + 0.6 * len(w) for w, s in steps + check] + [vis_len(answer) * 1.25])
    if widest > 40:  # long lines need the whole width more than a picture
        graph = triangle = circle = None
    fig = figure_code(graph, triangle, circle)
    ask, method = ASK.get(family, "Solve the problem."), METHOD.get(family, "Work one step at a time.")

    def head(i):
        return HEAD.format(cls=SCENES[i], title=repr(title), wide=repr(False), heading=repr(TITLES[i]))

    problem = head(0) + fig + PROBLEM.format(ask=repr(ask))
    worked = head(1) + NOFIGURE + ROWS.format(rows=repr(steps)) + STEPS.format(method=repr(method))
    solved = head(2) + fig + ROWS.format(rows=repr(check)) + ANSWER.format(answer=repr(answer))
    if triangle is not None and fig != NOFIGURE:
        solved += TRIANGLE_TAIL
    said = [spoken(w) for w, _ in steps if w]
    checks = [spoken(w) for w, _ in check if w]
    return [
        {"title": TITLES[0], "goal": ask, "narration": ["Here is the problem.", ask], "code": problem, "scene": SCENES[0]},
        {"title": TITLES[1], "goal": method, "narration": [method] + said, "code": worked, "scene": SCENES[1]},
        {"title": TITLES[2], "goal": "State the answer and check it.",
         "narration": ["The answer: %s." % answer_plain.lstrip("= ")] + (checks or ["It checks out."]), "code": solved, "scene": SCENES[2]},
    ]
