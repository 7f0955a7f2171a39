from manim import *


class Solution(Scene):
    def construct(self):
        title = Text("Where does y = x² - 4 cross the x-axis?", font_size=34).to_edge(UP)
        ax = Axes(x_range=[-3, 3, 1], y_range=[-5, 5, 1], x_length=6, y_length=5.2,
                  axis_config={"font_size": 22}).add_coordinates()
        ax.to_edge(LEFT, buff=0.7).shift(DOWN * 0.4)
        curve = ax.plot(lambda x: x**2 - 4, x_range=[-3, 3], color=BLUE)
        label = MathTex(r"y = x^2 - 4", color=BLUE, font_size=32).next_to(ax.c2p(2.2, 4), RIGHT, buff=0.1)
        roots = VGroup(*[Dot(ax.c2p(x, 0), color=YELLOW, radius=0.09) for x in (-2, 2)])
        steps = VGroup(
            MathTex(r"x^2 - 4 = 0"),
            MathTex(r"x^2 = 4"),
            MathTex(r"x = -2 \quad \text{or} \quad x = 2"),
        ).arrange(DOWN, buff=0.5).next_to(ax, RIGHT, buff=0.8)
        self.play(Write(title))
        self.play(Create(ax), run_time=1.5)
        self.play(Create(curve), FadeIn(label), run_time=2)
        self.play(Write(steps[0]))
        for previous, step in zip(steps, steps[1:]):
            self.play(TransformFromCopy(previous, step))
            self.wait(0.5)
        self.play(FadeIn(roots, scale=1.5))
        box = SurroundingRectangle(steps[-1], color=YELLOW, buff=0.15)
        self.play(Create(box))
        self.wait(2)
