from manim import *


class Solution(Scene):
    def construct(self):
        title = Text("Solve a linear equation", font_size=40).to_edge(UP)
        steps = VGroup(
            MathTex(r"2x + 3 = 11"),
            MathTex(r"2x = 11 - 3"),
            MathTex(r"2x = 8"),
            MathTex(r"x = \frac{8}{2}"),
            MathTex(r"x = 4"),
        ).arrange(DOWN, buff=0.45).next_to(title, DOWN, buff=0.6)
        self.play(Write(title))
        self.play(Write(steps[0]))
        for previous, step in zip(steps, steps[1:]):
            self.play(TransformFromCopy(previous, step), run_time=1)
            self.wait(0.5)
        box = SurroundingRectangle(steps[-1], color=YELLOW, buff=0.15)
        self.play(Create(box))
        self.wait(2)
