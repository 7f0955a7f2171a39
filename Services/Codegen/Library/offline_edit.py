# mathreel's offline edits of the scene above: its pace, its zoom, a pause after each step.
# Appended by mathreel's built-in editor (OfflineEditor.swift); a later edit changes the
# three numbers. The scene's own code above is untouched, except for a new highlight colour.
class BaseEdited(Base):
    mathreel_pace = 1.0
    mathreel_zoom = 1.0
    mathreel_pause = 0.0

    def setup(self):
        super().setup()
        self.camera.frame_width = config.frame_width / self.mathreel_zoom
        self.camera.frame_height = config.frame_height / self.mathreel_zoom

    def play(self, *animations, **kwargs):
        # Scene.wait plays a Wait: it is paced like the rest, and never followed by a pause.
        waiting = all(isinstance(a, Wait) for a in animations)
        base = kwargs.get("run_time")
        if base is None:
            base = max([a.run_time for a in animations if isinstance(a, Animation)] or [1.0])
        kwargs["run_time"] = base * self.mathreel_pace
        super().play(*animations, **kwargs)
        if self.mathreel_pause > 0 and not waiting:
            self.wait(self.mathreel_pause)
