// The static check's Python side, embedded so that every daemon carries it
// (no data files to install or find). It parses with `ast` and never runs the
// code it checks. Edit it here; StaticCheck.swift runs it with `python -I -c`.
enum CheckerSource {
    static let python = #"""
# mathreel's static check of Manim scene code: parses with ast (never runs the
# code), finds the Scene to render, refuses imports and names that reach outside,
# and renames removed Manim names whose replacement the installed Manim has.
# Reads {"code", "scene"?, "names_cache"?} as one JSON line per request; writes one JSON line each.
import ast, json, sys

ALLOWED_IMPORTS = {"manim", "numpy", "math", "cmath", "random", "itertools", "functools",
                   "sympy", "typing", "dataclasses", "colour"}
# Submodules of allowed packages that reach the file system, processes or C.
DENIED_SUBMODULES = {"numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.testing", "numpy.lib.format",
                     "sympy.utilities.autowrap", "sympy.utilities.codegen", "sympy.external",
                     "manim.utils.file_ops", "manim.cli", "manim.__main__"}
DENIED_CALLS = {"__import__", "eval", "exec", "compile", "open", "globals", "locals", "vars", "input",
                "breakpoint", "help", "exit", "quit", "setattr", "delattr", "memoryview", "__build_class__"}
# Attribute names that lead out of the sandbox's intended reach, whatever object they hang on.
DENIED_ATTRIBUTES = {"os", "sys", "subprocess", "ctypes", "importlib", "builtins", "shutil", "socket",
                     "system", "popen", "spawn", "fork", "execv", "execve", "kill", "load_library",
                     "f_globals", "f_locals", "f_back", "gi_frame", "cr_frame", "tb_frame", "func_globals"}
# Candidate renames (old name -> Manim CE name); only those the installed Manim confirms are applied.
RENAME_CANDIDATES = {
    "ShowCreation": "Create", "TextMobject": "Tex", "TexMobject": "MathTex", "TexText": "Tex",
    "OldTex": "Tex", "OldTexText": "Tex", "FadeInFrom": "FadeIn", "FadeInFromDown": "FadeIn",
    "FadeOutAndShift": "FadeOut", "FadeOutAndShiftDown": "FadeOut", "CircleIndicate": "Circumscribe",
    "ShowCreationThenDestruction": "ShowPassingFlash", "ShowCreationThenFadeOut": "ShowPassingFlash",
    "WiggleOutThenIn": "Wiggle", "ContinualAnimation": "UpdateFromFunc", "get_graph": "plot",
    "get_parametric_curve": "plot_parametric_curve", "DashedLine2": "DashedLine",
}
GL_ONLY = {
    "manimlib": "this is ManimGL code; mathreel renders Manim Community Edition: write `from manim import *`",
    "InteractiveScene": "InteractiveScene exists only in ManimGL; use Scene",
    "GraphScene": "GraphScene was removed from Manim CE; draw with Axes (axes.plot(...)) in a Scene",
    "embed": "self.embed() opens ManimGL's interactive shell; remove it",
    "CONFIG": "CONFIG dictionaries are ManimGL style; set attributes in __init__ or construct instead",
}


def load_names(cache):
    """The installed Manim's exported names and Scene classes, from the cache or by importing it."""
    import importlib.util, os
    spec = importlib.util.find_spec("manim")
    # The cache is good while the installed manim package is the same file.
    stamp = "%s@%s" % (spec.origin, os.stat(spec.origin).st_mtime_ns) if spec and spec.origin else ""
    if (cache, stamp) in _KNOWN:  # a worker reads the cache once per installed Manim
        return _KNOWN[(cache, stamp)]
    _KNOWN.clear()
    _KNOWN[(cache, stamp)] = found = _read_names(cache, stamp)
    return found


_KNOWN = {}


def _read_names(cache, stamp):
    import os
    if cache:
        try:
            with open(cache) as f:
                data = json.load(f)
            if data.get("stamp") == stamp:
                return set(data["names"]), set(data["scenes"]), data["version"]
        except (OSError, ValueError, KeyError):
            pass
    import manim  # noqa: only to read its names; the checked code is never run
    names = set(n for n in dir(manim) if not n.startswith("_"))
    methods = set()
    for n in ("Axes", "NumberPlane", "Mobject", "VMobject", "Scene", "ThreeDAxes", "CoordinateSystem"):
        methods.update(m for m in dir(getattr(manim, n, object)) if not m.startswith("_"))
    scenes = set(n for n in names if isinstance(getattr(manim, n), type) and issubclass(getattr(manim, n), manim.Scene))
    data = {"names": sorted(names | methods), "scenes": sorted(scenes), "version": manim.__version__, "stamp": stamp}
    if cache:
        try:
            tmp = "%s.%d.tmp" % (cache, os.getpid())
            with open(tmp, "w") as f:
                json.dump(data, f)
            os.replace(tmp, cache)
        except OSError:
            pass
    return names | methods, scenes, manim.__version__


def check(code, wanted_scene, cache):
    errors, warnings = [], []

    def err(node, msg):
        errors.append({"line": getattr(node, "lineno", 0), "message": msg})

    def warn(node, msg):
        warnings.append({"line": getattr(node, "lineno", 0), "message": msg})

    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return {"valid": False, "errors": [{"line": e.lineno or 0, "message": "Python cannot parse this: %s" % e.msg}],
                "warnings": [], "scene": None, "scenes": [], "code": code, "fixes": []}
    except (ValueError, RecursionError, MemoryError) as e:
        return {"valid": False, "errors": [{"line": 0, "message": "the code cannot be read: %s" % type(e).__name__}],
                "warnings": [], "scene": None, "scenes": [], "code": code, "fixes": []}

    names, scene_classes, version = load_names(cache)
    renames = {old: new for old, new in RENAME_CANDIDATES.items() if old != new and new in names and old not in names}
    fixes = []
    lines = code.split("\n")

    def rename(node, old, attr=False):
        new = renames[old]
        fixes.append({"line": node.lineno, "col": node.col_offset if not attr else None, "from": old, "to": new})
        warn(node, "`%s` is not part of Manim CE %s; use `%s` (changed for you)." % (old, version, new))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level:
                err(node, "relative imports are not allowed; import from manim, numpy or sympy")
            for m in mods:
                top = m.split(".")[0]
                if top == "manimlib":
                    err(node, GL_ONLY["manimlib"] + ".")
                elif top not in ALLOWED_IMPORTS:
                    err(node, "`import %s` is not allowed; scenes may import only %s." % (m, ", ".join(sorted(ALLOWED_IMPORTS))))
                elif any(m == d or m.startswith(d + ".") for d in DENIED_SUBMODULES):
                    err(node, "`%s` is not allowed in a scene." % m)
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name.startswith("__") or a.name in DENIED_ATTRIBUTES:
                        err(node, "importing `%s` is not allowed." % a.name)
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("__") and node.attr.endswith("__"):
                err(node, "`.%s` (a double-underscore attribute) is not allowed." % node.attr)
            elif node.attr in DENIED_ATTRIBUTES:
                err(node, "`.%s` is not allowed in a scene." % node.attr)
            elif node.attr == "embed":
                warn(node, GL_ONLY["embed"] + ".")
            elif node.attr in renames:
                rename(node, node.attr, attr=True)
        elif isinstance(node, ast.Name):
            if node.id.startswith("__") and node.id.endswith("__") and node.id != "__name__":
                err(node, "`%s` is not allowed." % node.id)
            elif node.id in DENIED_CALLS:
                err(node, "`%s` is not allowed in a scene." % node.id)
            elif node.id == "getattr":
                pass  # checked at the call
            elif node.id in ("InteractiveScene", "GraphScene") and node.id not in names:
                err(node, GL_ONLY[node.id] + ".")
            elif node.id in renames and isinstance(node.ctx, ast.Load):
                rename(node, node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            key = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)) or key.value.startswith("__"):
                err(node, "`getattr` with a computed or double-underscore name is not allowed; write the attribute out.")
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CONFIG" for t in node.targets):
            warn(node, GL_ONLY["CONFIG"] + ".")

    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    known_scene = set(scene_classes)
    found = []
    for c in classes:  # in order, so a subclass of an earlier scene class counts too
        for b in c.bases:
            base = b.id if isinstance(b, ast.Name) else (b.attr if isinstance(b, ast.Attribute) else None)
            if base in known_scene:
                found.append(c.name)
                known_scene.add(c.name)
                break
    scene = None
    if wanted_scene:
        if wanted_scene in found:
            scene = wanted_scene
        else:
            defined = ", ".join("`%s`" % f for f in found) or "none"
            errors.append({"line": 0, "message": "there is no Scene class named `%s`; the code defines %s." % (wanted_scene, defined)})
    elif len(found) == 1:
        scene = found[0]
    elif found:
        # Several scenes: the last one defined is the one that uses the others.
        scene = found[-1]
        warnings.append({"line": 0, "message": "several Scene classes (%s); rendering `%s`." % (", ".join(found), scene)})
    else:
        errors.append({"line": 0, "message": "no Scene class found: define `class MyScene(Scene):` with a `construct(self)` method."})

    fixed = code
    if fixes:
        # Replace whole identifiers on the reported lines, right to left so columns stay valid.
        import re
        by_line = {}
        for f in fixes:
            by_line.setdefault(f["line"], set()).add((f["from"], f["to"]))
        for ln, pairs in by_line.items():
            for old, new in pairs:
                lines[ln - 1] = re.sub(r"\b%s\b" % re.escape(old), new, lines[ln - 1])
        fixed = "\n".join(lines)

    errors.sort(key=lambda e: e["line"])
    warnings.sort(key=lambda e: e["line"])
    return {"valid": not errors, "errors": errors, "warnings": warnings, "scene": scene, "scenes": found,
            "code": fixed, "fixes": fixes, "manim_version": version}


def main():
    # A worker: a ready line, then one JSON request line in, one JSON reply line out.
    sys.setrecursionlimit(2000)
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            reply = check(request["code"], request.get("scene"), request.get("names_cache"))
        except (RecursionError, MemoryError, ValueError, KeyError, TypeError) as e:
            reply = {"valid": False, "errors": [{"line": 0, "message": "the code could not be checked (%s)" % type(e).__name__}],
                     "warnings": [], "scene": None, "scenes": [], "code": ""}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
"""#
}
