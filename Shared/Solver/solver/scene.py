"""The one Manim scene template every family fills, with repr() data only, and the
solved reply."""
import math
import re

from .base import Unsupported


HEAD = r'''from manim import *
import numpy as np


class Solution(Scene):
    def construct(self):
        title_tex = {title}
        steps = {steps}
        answer_tex = {answer}
        wide = {wide}
        title = MathTex(title_tex)
        if title.height > 1.5:
            title.scale_to_fit_height(1.5)
        if title.width > 12.4:
            title.scale_to_fit_width(12.4)
        title.to_edge(UP, buff=0.3)
        self.play(Write(title), run_time=1.2)
        self.wait(0.3)
'''

GRAPH = r'''        g = {graph}
        ax = Axes(x_range=g["x"], y_range=g["y"], x_length=5.8, y_length=3.2 if wide else 4.0, tips=False,
                  axis_config={{"include_numbers": True, "font_size": 20, "stroke_width": 2}})
        ax.next_to(title, DOWN, buff=0.5).set_x(3.55)
        palette = [BLUE, GREEN, RED, ORANGE]
        curves = VGroup()
        for color, xs, ys in g["curves"]:
            curves.add(ax.plot_line_graph(x_values=xs, y_values=ys, line_color=palette[color],
                                          add_vertex_dots=False, stroke_width=4))
        self.play(Create(ax), run_time=1.0)
        extra = []
        if g["legend"]:
            parts = []
            for color, label in g["legend"]:
                parts += [label, r"\qquad"]
            legend = MathTex(*parts[:-1]).scale(0.6)
            for i, (color, label) in enumerate(g["legend"]):
                legend[2 * i].set_color(palette[color])
            legend.next_to(ax, DOWN, buff=0.25)
            if legend.width > 6.2:
                legend.scale_to_fit_width(6.2)
            extra.append(FadeIn(legend))
        if "hline" in g:
            extra.append(Create(DashedLine(ax.c2p(g["x"][0], g["hline"]), ax.c2p(g["x"][1], g["hline"]), color=GREY_B)))
        self.play(Create(curves), *extra, run_time=1.6)
        if "area" in g:
            xs, ys = g["area"]
            pts = [ax.c2p(xs[0], 0)] + [ax.c2p(a, b) for a, b in zip(xs, ys)] + [ax.c2p(xs[-1], 0)]
            region = Polygon(*pts, stroke_width=0, fill_color=BLUE, fill_opacity=0.45)
            self.play(FadeIn(region), run_time=0.8)
        marks = VGroup()
        for x, y, label in g["dots"]:
            dot = Dot(ax.c2p(x, y), color=YELLOW, radius=0.08)
            marks.add(dot)
            if label:
                tag = MathTex(label, color=YELLOW).scale(0.5).next_to(dot, UR, buff=0.08)
                if tag.get_right()[0] > 6.9:
                    tag.next_to(dot, UL, buff=0.08)
                marks.add(tag)
        if "hole" in g:
            marks.add(Circle(radius=0.09, color=YELLOW, stroke_width=3).set_fill(BLACK, 1).move_to(ax.c2p(*g["hole"])))
        side = True
'''

TRIANGLE = r'''        f = {figure}
        a, b = f["legs"]
        k = min(4.6 / a, 3.4 / b)
        p0 = np.array([0.0, 0.0, 0.0])
        p1 = np.array([a * k, 0.0, 0.0])
        p2 = np.array([0.0, b * k, 0.0])
        tri = Polygon(p0, p1, p2, color=BLUE, fill_opacity=0.15)
        s = min(0.3, 0.3 * a * k, 0.3 * b * k)
        corner = Square(side_length=s, color=WHITE, stroke_width=2).move_to(p0 + np.array([s / 2, s / 2, 0.0]))
        shape = VGroup(tri, corner)
        shape.next_to(title, DOWN, buff=0.9).set_x(3.6)
        q0, q1, q2 = tri.get_vertices()
        la = MathTex(f["labels"][0]).scale(0.7).next_to(Line(q0, q1), DOWN, buff=0.15)
        lb = MathTex(f["labels"][1]).scale(0.7).next_to(Line(q0, q2), LEFT, buff=0.15)
        lc = MathTex(f["labels"][2]).scale(0.7).move_to((q1 + q2) / 2 + np.array([0.5, 0.35, 0.0]))
        self.play(Create(tri), Create(corner), run_time=1.2)
        self.play(FadeIn(la), FadeIn(lb), FadeIn(lc), run_time=0.8)
        labels = [la, lb, lc]
        marks = VGroup()
        unknown = labels[f["unknown"]]
        solved = MathTex(f["solved"], color=YELLOW).scale(0.7).move_to(unknown)
        side = True
'''

CIRCLE = r'''        f = {figure}
        disk = Circle(radius=1.8, color=BLUE, fill_opacity=0.2)
        disk.next_to(title, DOWN, buff=0.8).set_x(3.6)
        centre = disk.get_center()
        if f["diameter"]:
            seg = Line(centre + LEFT * 1.8, centre + RIGHT * 1.8, color=YELLOW)
        else:
            seg = Line(centre, centre + RIGHT * 1.8, color=YELLOW)
        tag = MathTex(f["label"]).scale(0.7).next_to(seg, UP, buff=0.12)
        self.play(Create(disk), run_time=1.0)
        self.play(Create(seg), FadeIn(Dot(centre)), FadeIn(tag), run_time=0.8)
        marks = VGroup()
        side = True
'''

NOSIDE = r'''        marks = VGroup()
        side = False
'''

# rows of [words, latex] in a panel: the left half beside a figure, else the full width
ROWS = r'''        panel_w = 6.3 if side else 12.4
        rows = VGroup()
        for words, line in {rows}:
            if words:
                # one LaTeX run per row: the label is the first part
                row = MathTex(r"\text{{\footnotesize " + words + r"}}\quad", line)
                row[0].set_color(GREY_B)
            else:
                row = MathTex(line)
            row.scale(0.8)
            if row.width > panel_w:
                row.scale_to_fit_width(panel_w)
            rows.add(row)
'''

TAIL = ROWS.format(rows="steps") + r'''        answer = MathTex(answer_tex, color=YELLOW)
        if answer.width > (12.4 if wide else panel_w - 0.4):
            answer.scale_to_fit_width(12.4 if wide else panel_w - 0.4)
        box = SurroundingRectangle(answer, color=YELLOW, buff=0.18)
        if wide:  # a long answer gets the full width under the steps and the graph
            VGroup(answer, box).to_edge(DOWN, buff=0.3)
            block = rows.arrange(DOWN, buff=0.32)
            room = title.get_bottom()[1] - box.get_top()[1] - 0.7
        else:
            block = VGroup(*rows, VGroup(answer, box)).arrange(DOWN, buff=0.32)
            room = title.get_bottom()[1] + 3.85 - 0.35
        if block.height > room:
            block.scale_to_fit_height(room)
        grow = min(1.3, room / block.height, panel_w / block.width)
        if grow > 1.05:  # few short steps: use the space
            block.scale(grow)
        block.next_to(title, DOWN, buff=0.35)
        block.set_x(-3.45 if side else 0)
        spare = room - block.height
        if spare > 0.5 and not side:  # a short solution sits a little lower, not glued to the title
            block.shift(DOWN * min(spare * 0.3, 1.0))
        pace = 1.0 if len(rows) <= 5 else 0.8
        for row in rows:
            self.play(Write(row), run_time=pace)
            self.wait(0.5 * pace)
        self.play(Write(answer), run_time=1.0)
        finish = [Create(box)]
        if len(marks) > 0:
            finish.append(FadeIn(marks))
        self.play(*finish, run_time=0.8)
        self.wait(max(2.0, 9.0 - self.time))
'''

TRIANGLE_TAIL = r'''        self.play(Transform(unknown, solved), run_time=0.8)
        self.wait(0.5)
'''


def vis_len(s):
    """Roughly how many glyphs wide a LaTeX string renders (fractions count their wider part)."""
    s = re.sub(r"\\(left|right|quad|qquad|[,;:! ])", "", s)
    for _ in range(4):
        s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: max(m.group(1), m.group(2), key=len), s)
    s = re.sub(r"\\(text|mathrm|footnotesize)\b", "", s)
    s = re.sub(r"\\(sin|cos|tan|cot|sec|csc|ln|log|exp|lim|det)\b", r"\1", s)
    s = re.sub(r"\\[a-zA-Z]+", "x", s)
    return len(re.sub(r"[{}^_\s]", "", s))


def plain_data(obj):
    """Only str, int, bool and finite floats in lists/dicts: their repr() is a safe literal."""
    if isinstance(obj, (list, tuple)):
        return all(plain_data(v) for v in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and plain_data(v) for k, v in obj.items())
    if type(obj) is float:  # not numpy's: its repr is np.float64(...)
        return math.isfinite(obj)
    return obj is None or type(obj) in (str, int, bool)


class Drawing:
    """A solved problem's scenes: `code`, today's single scene, and what its lesson needs."""

    def __init__(self, code, title, steps, answer, check, graph, triangle, circle):
        self.code = code
        self.parts = dict(title=title, steps=steps, answer=answer, check=check, graph=graph, triangle=triangle, circle=circle)


def scene(title, steps, answer, graph=None, triangle=None, circle=None, check=None):
    """The single scene's source (a fixed template plus repr() data only) and its lesson's parts;
    `check` is the answer's check as rows of [words, latex]."""
    if not plain_data([title, steps, answer, graph, triangle, circle]):
        raise Unsupported("I couldn't draw that one (a value is not a finite number).")
    steps = [[w, s] for w, s in steps if s]
    # a step too wide to read is left out (the boxed answer always stays)
    if len(steps) > 1:
        steps = [st for st in steps if vis_len(st[1]) + 0.6 * len(st[0]) <= 110] or steps[-1:]
    steps = steps[:7]
    widest = max([vis_len(s) + 0.6 * len(w) for w, s in steps] + [0])
    wide = graph is not None and vis_len(answer) * 1.25 > 40 and vis_len(answer) <= 80 and widest <= 40
    if widest > 40 or (vis_len(answer) * 1.25 > 40 and not wide):  # long lines need the width more than a picture
        graph = triangle = circle = None
    code = HEAD.format(title=repr(title), steps=repr(steps), answer=repr(answer), wide=repr(wide))
    if graph is not None:
        code += GRAPH.format(graph=repr(graph))
    elif triangle is not None:
        code += TRIANGLE.format(figure=repr(triangle))
    elif circle is not None:
        code += CIRCLE.format(figure=repr(circle))
    else:
        code += NOSIDE
    code += TAIL
    if triangle is not None:
        code += TRIANGLE_TAIL
    return Drawing(code, title, steps, answer, check, graph, triangle, circle)


def result(family, answer, answer_latex, drawing, expression):
    from .lesson import lesson
    return {"ok": True, "family": family, "answer": answer, "answer_latex": answer_latex,
            "code": drawing.code, "scene": "Solution", "expression": expression,
            "lesson": lesson(family, answer_plain=answer, **drawing.parts)}
