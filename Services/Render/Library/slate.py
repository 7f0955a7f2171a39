# The slate that stands in for a lesson's scene whose own code failed for good:
# the scene's title and its goal as plain text (Pango, never LaTeX), held still
# for a few seconds, so it cannot fail where the scene did. Render fills in the
# two strings (as JSON string literals, which Python reads the same); nothing
# else of the job reaches it.
from manim import DOWN, YELLOW, FadeIn, Scene, Text, VGroup

TITLE = ""
GOAL = ""


class Slate(Scene):
    def construct(self):
        heading = Text(TITLE, font_size=40, color=YELLOW)
        if heading.width > 12.0:
            heading.scale_to_fit_width(12.0)
        body = Text(GOAL, font_size=28, line_spacing=1.2)
        if body.width > 12.0:
            body.scale_to_fit_width(12.0)
        if body.height > 4.0:
            body.scale_to_fit_height(4.0)
        VGroup(heading, body).arrange(DOWN, buff=0.6)
        self.play(FadeIn(heading), FadeIn(body), run_time=0.5)
        self.wait(3.5)
