// Prompt: what a model is told. A system prompt written for Manim CE 0.22 (its
// frame, raw strings for LaTeX, one Scene, the names models get wrong, no files
// or network), a worked example, snippets of the installed Manim's own docs that
// match the problem, the offline solver's verified answer, the previous problem
// of a follow-up, and the repair request with the failing code and its error.
import MathreelCore
import MathreelProviders

public enum Prompt {
    static let system = """
        You write one complete Python file for Manim Community Edition 0.22 that animates the worked solution \
        of a math problem for a short video.

        Rules:
        - Start with `from manim import *`. You may also import numpy (as np), math and sympy; nothing else.
        - Exactly one class, a subclass of Scene (ThreeDScene or MovingCameraScene when needed), with a \
        `construct(self)` method. Name it Solution.
        - The frame is 14.2 units wide and 8 tall: keep everything within x in [-7, 7] and y in [-4, 4]. Use \
        `.scale_to_fit_width(12)` on long lines and `VGroup(...).arrange(DOWN)` to stack steps; remove or fade \
        out old steps before the screen fills.
        - LaTeX goes in MathTex with raw strings: MathTex(r"\\frac{a}{b}"). Plain words go in Text or Tex, never MathTex.
        - Use Manim CE names only: Create (not ShowCreation), MathTex and Tex (not TexMobject or TextMobject), \
        Axes with ax.plot (not GraphScene or get_graph), FadeIn(m, shift=UP) (not FadeInFrom), \
        ReplacementTransform to replace one object by another. No ManimGL: no manimlib, no self.frame, no \
        PiCreature, no CONFIG dicts. Colours: use BLUE, RED, GREEN, YELLOW, ORANGE, PURPLE, TEAL, PINK, WHITE, \
        GREY or hex strings (no CYAN, MAGENTA, VIOLET, INDIGO).
        - No file, network or system access: no open(), os, sys, subprocess, eval or exec.
        - Keep the whole video between 8 and 30 seconds; run_time and wait values are positive.
        - Show each step of the solution, then the final answer highlighted (e.g. with SurroundingRectangle).
        - The maths must be right. When a verified answer is given, the animation must arrive at exactly it.

        Reply with the code in one ```python block and nothing else.
        """

    static let exampleProblem = "Solve 2x + 3 = 11"
    static let exampleCode = """
        ```python
        from manim import *


        class Solution(Scene):
            def construct(self):
                title = Text("Solve a linear equation", font_size=40).to_edge(UP)
                steps = VGroup(
                    MathTex(r"2x + 3 = 11"),
                    MathTex(r"2x = 11 - 3"),
                    MathTex(r"2x = 8"),
                    MathTex(r"x = \\frac{8}{2}"),
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
        ```
        """

    static let graphProblem = "Where does y = x^2 - 4 cross the x-axis?"
    static let graphCode = #"""
        ```python
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
        ```
        """#

    /// The first request for `problem`.
    public static func messages(problem: String, context: String?, verifiedAnswer: String?, snippets: [String]) -> [ChatMessage] {
        var user = ""
        if let context, !context.trimmed().isEmpty {
            user += "The previous problem in this conversation was: \(context.trimmed())\nThe new message may refer to it.\n\n"
        }
        user += "Problem: \(problem.trimmed())\n"
        if let verifiedAnswer {
            user += "\nVerified answer (computed with SymPy): \(verifiedAnswer). The animation must arrive at this answer.\n"
        }
        if !snippets.isEmpty {
            user += "\nFrom the installed Manim's documentation, in case it helps:\n"
            for s in snippets { user += "---\n\(s)\n" }
        }
        return [ChatMessage("system", system),
                ChatMessage("user", "Problem: \(exampleProblem)"), ChatMessage("assistant", exampleCode),
                ChatMessage("user", "Problem: \(graphProblem)"), ChatMessage("assistant", graphCode),
                ChatMessage("user", user)]
    }

    /// The same conversation once more, with the code that failed and why.
    public static func repair(_ messages: [ChatMessage], code: String, error: String) -> [ChatMessage] {
        messages + [
            ChatMessage("assistant", "```python\n\(code)\n```"),
            ChatMessage("user", """
                That code failed:
                \(error.prefix(3000))

                Fix it. Keep the same animation where you can, follow every rule above, and reply with the whole \
                corrected file in one ```python block.
                """),
        ]
    }
}
