"""Runs the offline solver (the `solver` package beside this file): solver.worker.main().

From disk: `python -I -B solver_main.py` imports the package from this file's directory.
Embedded: the daemon runs one script, "_SOURCES = " + a JSON object + "\n" + this file's
text, with `python -I -B /dev/fd/3`. The object maps module names ("solver",
"solver.text", ...) to their source, and the package is imported from it alone: a
finder first on sys.meta_path serves those names, so the disk is never read for them.
"""
import importlib.abc
import importlib.util
import os
import sys


class Embedded(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves modules from {name: source}; a name with submodules in it is a package."""

    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        package = any(other.startswith(name + ".") for other in self.sources)
        # a made-up origin: no __file__, and tracebacks still name the module's file
        origin = "<%s%s>" % (name.replace(".", "/"), "/__init__.py" if package else ".py")
        return importlib.util.spec_from_loader(name, self, origin=origin, is_package=package)

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        spec = module.__spec__
        exec(compile(self.sources[spec.name], spec.origin, "exec", dont_inherit=True), module.__dict__)


def main():
    if "_SOURCES" in globals():
        sys.meta_path.insert(0, Embedded(globals()["_SOURCES"]))
    else:
        # -I leaves the script's directory off sys.path
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import solver.worker
    solver.worker.main()


if __name__ == "__main__":
    main()
