# mathreel's static check of Manim scene code: parses with ast (never runs the
# code), finds the Scene to render, refuses imports, names and attributes that reach
# outside (files, programs, Python's internals, strings run as Python), and renames
# removed Manim names whose replacement the installed Manim has.
# Reads {"code", "scene"?, "names_cache"?} as one JSON line per request; writes one JSON line each.
# Embedded in the daemons at build time (Package.swift); StaticCheck.swift runs it with `python -I -c`.
import ast, json, sys

# What the installed Manim's own examples import (Tests/Render/doc_examples.py counts them):
# networkx for Graph's layouts, collections for a layout's distances.
ALLOWED_IMPORTS = {"manim", "numpy", "math", "cmath", "random", "itertools", "functools",
                   "sympy", "typing", "dataclasses", "colour", "networkx", "collections"}
# Why a refused thing is refused, and what to write instead (a refusal says both).
FILES = "it reads or writes files, and a scene has none; put the numbers in the code (np.array([...])) instead"
SYSTEM = "it reaches the operating system, other programs or Python's internals; remove it, a scene only draws"
LOOKUP = "it looks attributes up by a computed name; write the attribute out (obj.color) instead"
RUNS = "it runs a string as Python; write the code itself instead"
NX = "networkx is used by its own name (import networkx as nx), not through Manim's modules"
LAMBDIFY = ("it writes Python source from the expression and runs it; use a Python function instead, "
            "e.g. lambda t: float(expr.subs(x, t))")
# Modules (and everything under them) of allowed packages that reach files, programs, C or string evaluation.
DENIED_MODULES = {
    "numpy.ctypeslib": SYSTEM, "numpy.f2py": SYSTEM, "numpy.distutils": SYSTEM, "numpy.testing": SYSTEM,
    "numpy.test": SYSTEM, "numpy.lib": FILES,
    "sympy.utilities.autowrap": SYSTEM, "sympy.utilities.codegen": FILES, "sympy.utilities.lambdify": LAMBDIFY,
    "sympy.utilities.runtests": SYSTEM, "sympy.utilities.source": LOOKUP, "sympy.testing": SYSTEM, "sympy.test": SYSTEM,
    "sympy.doctest": SYSTEM, "sympy.external": SYSTEM, "sympy.parsing": RUNS, "sympy.interactive": RUNS,
    "sympy.init_session": RUNS, "sympy.preview": SYSTEM, "sympy.printing.preview": SYSTEM, "sympy.print_gtk": SYSTEM,
    "sympy.printing.gtk": SYSTEM, "sympy.plotting": FILES, "sympy.plot": FILES, "sympy.plot_implicit": FILES,
    "manim.utils.file_ops": SYSTEM, "manim.utils.commands": SYSTEM, "manim.utils.module_ops": SYSTEM,
    "manim.utils.tex_file_writing": FILES, "manim.utils.ipython_magic": SYSTEM, "manim.utils.docbuild": SYSTEM,
    "manim.utils.testing": SYSTEM, "manim.plugins": SYSTEM, "manim.cli": SYSTEM, "manim.__main__": SYSTEM,
    "manim.scene.scene_file_writer": FILES, "manim.utils.typst_file_writing": FILES,
    "manim.scene.video_segment_encoder": FILES, "manim._config.video_encoder": FILES,
    # networkx: graphs and their layouts, never its files, drawings, plugins or settings.
    "networkx.readwrite": FILES, "networkx.drawing": FILES, "networkx.utils": SYSTEM, "networkx.lazy_imports": SYSTEM,
    "networkx.config": SYSTEM, "networkx.conftest": SYSTEM,
}
# Under networkx also: its readers, writers and drawers at the top (nx.read_gml, nx.draw), and its tests.
NX_PREFIXES = ("read_", "write_", "draw")
# Attribute names refused whatever object they hang on (a module passed around keeps its attributes).
ATTRIBUTES = dict.fromkeys((
    "os", "_os", "sys", "subprocess", "sp", "ctypes", "_ctypes", "ctypeslib", "CDLL", "cdll", "PyDLL", "pythonapi", "importlib", "import_module", "builtins", "shutil",
    "socket", "system", "popen", "spawn", "fork", "execv", "execve", "kill", "load_library", "check_output", "Popen",
    "getoutput", "pickle", "copyreg", "marshal", "io", "tempfile", "NamedTemporaryFile", "mkstemp", "mkdtemp", "inspect",
    "gc", "logging", "platform", "unittest", "argparse", "threading", "_thread", "concurrent", "multiprocessing",
    "webbrowser", "urllib", "http", "runpy", "pkgutil", "entry_points", "f2py", "distutils", "testing", "file_ops",
    "commands", "module_ops", "ipython_magic", "plugins", "preview", "print_gtk", "pager",
    # Frames and code objects: a frame holds a module's globals and builtins, a code object can be rewritten.
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "gi_frame", "gi_code", "cr_frame", "cr_code",
    "ag_frame", "ag_code", "tb_frame", "tb_next", "func_globals", "func_code", "co_code", "co_consts", "co_names",
    "CodeType", "FunctionType", "LambdaType"), SYSTEM)
ATTRIBUTES.update(dict.fromkeys((
    "open", "_open", "fromfile", "tofile", "dump", "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt",
    "genfromtxt", "fromregex", "memmap", "open_memmap", "DataSource", "lib", "Path", "pathlib", "copyfile", "fileinput",
    "linecache", "ET", "cairo", "av", "configparser", "codecs", "tex_file_writing", "typst_file_writing",
    "scene_file_writer", "file_writer", "digest_file", "save_html", "save_svg", "save_text",  # these three: Manim's rich `console`
    # What networkx's modules hold that opens files: its atlas's path, XML trees, compressed files, its file decorators.
    "ATLAS_FILE", "ElementTree", "gzip", "bz2", "lzma", "zipfile", "tarfile", "open_file", "fopeners", "readwrite",
    "drawing", "nx_agraph", "nx_pydot", "nx_pylab", "nx_latex"), FILES))
# The rest of networkx's reach: modules imported by name, its plugins (backends), code it writes (argmap); collections' sys.
ATTRIBUTES.update(dict.fromkeys(("_sys", "lazy_imports", "lazy_import", "_lazy_import", "backends", "argmap", "_logger"), SYSTEM))
ATTRIBUTES["nx"] = NX
ATTRIBUTES.update(dict.fromkeys(("attrgetter", "methodcaller", "Formatter", "get_field", "getmembers", "getattr_static",
                                 "get_class", "get_mod_func"), LOOKUP))
# typing and functools.singledispatch evaluate string annotations; timeit runs its statement.
ATTRIBUTES.update(dict.fromkeys(("get_type_hints", "ForwardRef", "evaluate_forward_ref", "get_annotations", "timeit",
                                 "init_session", "interactive", "parsing"), RUNS))
ATTRIBUTES["lambdify"] = LAMBDIFY
# Builtins refused wherever their name appears (so an alias or a value passed on is refused too).
DENIED_CALLS = dict.fromkeys(("eval", "exec", "compile"), RUNS)
DENIED_CALLS.update(dict.fromkeys(("globals", "locals", "vars", "setattr", "delattr"),
                                  "it reads or changes names by a computed string; write the name out (obj.color = RED) instead"))
DENIED_CALLS.update(dict.fromkeys(("input", "breakpoint", "help", "exit", "quit"),
                                  "it waits for a person at a terminal or stops the render; remove it"))
DENIED_CALLS.update({"open": FILES, "memoryview": SYSTEM})
# SymPy turns a string into an expression by running it as Python: these only take numbers ...
EVAL_CALLS = {"sympify", "S", "parse_expr"}
# ... and a string given to any other SymPy function or these methods is sympified (run) as well,
SYMPY_STRING_METHODS = {"subs", "evalf", "n", "equals", "coeff", "is_polynomial", "collect", "match", "diff", "integrate",
                        "series", "limit", "simplify", "expand", "factor", "apart", "together", "solve", "nsimplify",
                        "as_coefficient", "as_independent", "as_poly", "compare", "dummy_eq", "taylor_term", "nseries",
                        "lseries", "aseries", "leadterm", "coeff_monomial", "contains", "intersect", "union", "is_subset"}
# except a name for a new symbol, a printer's input, and option keywords that are compared, not parsed.
SYMPY_NAMING = {"Symbol", "symbols", "Dummy", "Wild", "WildFunction", "Function", "IndexedBase", "MatrixSymbol", "Idx",
                "var", "Integer", "Rational", "Float"}
SYMPY_PRINTERS = {"latex", "pretty", "pprint", "srepr", "sstr", "mathml", "print_latex", "pycode", "python"}
SYMPY_OPTIONS = {"dir", "conds", "method", "order", "mode", "hint"}
SYMPY_PARSED_OPTIONS = {"domain", "extension", "gens", "field", "modulus", "subs"}  # polys options parse strings
# Callers of a function they are given (map(sp.solve, ["..."]) hands the strings on).
HIGHER_ORDER = {"map", "filter", "sorted", "min", "max", "reduce", "partial", "starmap", "accumulate"}
# What may make or hand back a string (Scope.stringish).
STR_CALLS = {"str", "chr", "repr", "ascii", "format", "input", "bytes", "bytearray"}
STR_ATTRIBUTES = {"text", "original_text", "tex_string", "tex_strings", "code_string", "name",  # Text("...").text
                  "__name__", "__version__"}
# Double-underscore attributes that are only read, and only strings: a class's or function's name, a version.
NAME_READS = {"__name__", "__version__"}
DICT_METHODS = {"items", "keys", "values", "get", "pop", "popitem", "setdefault", "copy"}
PASS_THROUGH = {"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter", "next", "min", "max", "dict", "zip",
                "enumerate", "filter", "map"}
STR_METHODS = {"join", "format", "format_map", "replace", "upper", "lower", "strip", "lstrip", "rstrip", "title",
               "capitalize", "casefold", "swapcase", "center", "ljust", "rjust", "zfill", "translate", "expandtabs",
               "removeprefix", "removesuffix", "decode"}
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
    """The installed Manim's names, Scene classes, version, where each exported name comes from,
    and what numpy and sympy export, from the cache or by importing them."""
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
            if data.get("stamp") == stamp:  # a cache without origins (an older checker's) is read again below
                return set(data["names"]), set(data["scenes"]), data["version"], _library(data)
        except (OSError, ValueError, KeyError, AttributeError):
            pass
    import types
    import manim  # noqa: only to read its names; the checked code is never run
    import numpy, sympy
    names = set(n for n in dir(manim) if not n.startswith("_"))
    methods = set()
    for n in ("Axes", "NumberPlane", "Mobject", "VMobject", "Scene", "ThreeDAxes", "CoordinateSystem"):
        methods.update(m for m in dir(getattr(manim, n, object)) if not m.startswith("_"))
    scenes = set(n for n in names if isinstance(getattr(manim, n), type) and issubclass(getattr(manim, n), manim.Scene))
    # Where `from manim import *` gets each name: `capture` is manim.utils.commands.capture.
    origins, modules, class_methods = {}, [], set()
    for n in names:
        v = getattr(manim, n)
        if isinstance(v, type):
            class_methods.update(m for m in dir(v) if not m.startswith("_"))
        if isinstance(v, types.ModuleType):
            origins[n] = v.__name__
            modules.append(n)
        elif (isinstance(v, type) or callable(v)) and isinstance(getattr(v, "__module__", None), str):
            origins[n] = "%s.%s" % (v.__module__, n)
    exports = {m.__name__: sorted(getattr(m, "__all__", None) or [n for n in dir(m) if not n.startswith("_")])
               for m in (numpy, sympy)}
    data = {"names": sorted(names | methods), "scenes": sorted(scenes), "version": manim.__version__, "stamp": stamp,
            "origins": origins, "modules": sorted(modules), "methods": sorted(class_methods), "exports": exports}
    if cache:
        try:
            tmp = "%s.%d.tmp" % (cache, os.getpid())
            with open(tmp, "w") as f:
                json.dump(data, f)
            os.replace(tmp, cache)
        except OSError:
            pass
    return names | methods, scenes, manim.__version__, _library(data)


def _library(data):
    return {"origins": data["origins"], "modules": set(data["modules"]), "methods": set(data["methods"]),
            "exports": {k: set(v) for k, v in data["exports"].items()}}


def denied_module(path):
    """The refused module `path` is, or is under, with why; None if none."""
    parts = path.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if prefix in DENIED_MODULES:
            return prefix, DENIED_MODULES[prefix]
    if "networkx" in parts[1:]:  # networkx reached through another module is networkx all the same
        return denied_module(".".join(parts[parts.index("networkx", 1):]))
    if parts[0] == "networkx" and (parts[-1].startswith(NX_PREFIXES) or "tests" in parts):
        return path, FILES if parts[-1].startswith(NX_PREFIXES) else SYSTEM
    return None


def is_dunder(attr):
    # Manim's Mobject turns `m.get_x()` / `m.set_x(v)` into getattr/setattr of `x`, so those count too.
    for prefix in ("get_", "set_"):
        if attr.startswith(prefix):
            attr = attr[len(prefix):]
    return attr.startswith("__") and attr.endswith("__")


def is_number(node):
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float, complex))
    if isinstance(node, ast.UnaryOp):
        return is_number(node.operand)
    if isinstance(node, ast.BinOp):
        return is_number(node.left) and is_number(node.right)
    return False


class Scope:
    """What the file's names are bound to by its imports, which names, attributes and functions may
    hold a string, and which names a SymPy object (flow-insensitive: every binding counts)."""

    def __init__(self, tree, library):
        self.origins, self.exports, self.manim_methods = library["origins"], library["exports"], library["methods"]
        self.bound = {}      # local name -> set of dotted paths (from import lines)
        self.modules = set()  # local names bound to a module
        self.stars = []      # modules star-imported, in order
        self._resolved = {}
        self.parent, self.nodes = {}, [tree]  # every node, in ast.walk's order, walked once
        assigned = set()
        for node in self.nodes:
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
                self.nodes.append(child)
            if isinstance(node, ast.Import):
                for a in node.names:
                    local = a.asname or a.name.split(".")[0]
                    self.bound.setdefault(local, set()).add(a.name if a.asname else local)
                    self.modules.add(local)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                for a in node.names:
                    if a.name == "*":
                        self.stars.append(node.module or "")
                    else:
                        self.bound.setdefault(a.asname or a.name, set()).add(self.origin(node.module or "", a.name))
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                assigned.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assigned.add(node.name)
            elif isinstance(node, ast.arg):
                assigned.add(node.arg)
        # A module `from manim import *` brings (np, utils, ...) counts as one unless the file binds the name itself.
        if "manim" in self.stars:
            self.modules |= library["modules"] - assigned
        self._taint(tree)

    def origin(self, module, name):
        if module == "manim" and name in self.origins:
            return self.origins[name]
        return "%s.%s" % (module, name) if module else name

    def star_exports(self, module, name):
        if module == "manim":
            return name in self.origins
        top = module.split(".")[0]
        if top in self.exports:  # a submodule's star exports are taken as its package's
            return name in self.exports[top] or name in ATTRIBUTES or name in EVAL_CALLS
        return name in ATTRIBUTES or name in EVAL_CALLS or name in DENIED_CALLS

    def resolve(self, node):
        """The dotted paths a Name or attribute chain may stand for (empty when unknown)."""
        if isinstance(node, ast.Name):
            if node.id not in self._resolved:
                paths = set(self.bound.get(node.id, ()))
                for m in reversed(self.stars):  # the last star import that has the name binds it
                    if self.star_exports(m, node.id):
                        paths.add(self.origin(m, node.id))
                        break
                self._resolved[node.id] = paths
            return self._resolved[node.id]
        if isinstance(node, ast.Attribute):
            return {p + "." + node.attr for p in self.resolve(node.value)}
        return set()

    def _taint(self, tree):
        # names: may hold a string (or a container of them); keyed: a dict with string keys;
        # funcs: return one; sym: hold a SymPy object (whose methods sympify what they are given).
        self.names, self.keyed, self.attrs, self.funcs, self.sym = set(), set(), set(), set(), set()
        self.other = set()  # names also bound to something that is not SymPy's
        params, returns, nodes = {}, {}, []  # function name -> its parameter names; def -> its returns
        for node in self.nodes:
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
                                 ast.comprehension, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Call)):
                nodes.append(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params.setdefault(node.name, set()).update(a.arg for a in _args(node.args))
                returns.setdefault(node, [])
            elif isinstance(node, ast.Return) and node.value is not None:
                up = self.parent.get(node)
                while up is not None and not isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    up = self.parent.get(up)
                if up is not None:
                    returns.setdefault(up, []).append(node.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                for t in node.targets:
                    if isinstance(t, (ast.Name, ast.Attribute)):
                        params.setdefault(_name(t), set()).update(a.arg for a in _args(node.value.args))
        for _ in range(10):  # to a fixpoint: a = "..."; b = a; f(b) ...
            before = tuple(map(len, (self.names, self.keyed, self.attrs, self.funcs, self.sym)))
            for node in nodes:
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if isinstance(node.value, ast.Lambda) and self.stringish(node.value.body):
                        self.funcs.update(_name(t) for t in targets if isinstance(t, (ast.Name, ast.Attribute)))
                    self._mark_all(targets, node.value, iterated=False)
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    self._mark_all([node.target], node.iter, iterated=True)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    a = node.args
                    for arg, default in zip((a.posonlyargs + a.args)[::-1], a.defaults[::-1]):
                        if self.stringish(default):
                            self.names.add(arg.arg)
                    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
                        if default is not None and self.stringish(default):
                            self.names.add(arg.arg)
                    if not isinstance(node, ast.Lambda) and any(self.stringish(r) for r in returns[node]):
                        self.funcs.add(node.name)
                elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                    # A function of the file called with a string: its parameters may hold one.
                    called = params.get(_name(node.func))
                    if called and any(self.stringish(v) for v in node.args + [k.value for k in node.keywords]):
                        self.names |= called
            if tuple(map(len, (self.names, self.keyed, self.attrs, self.funcs, self.sym))) == before:
                break

    def _mark_all(self, targets, value, iterated):
        # Iterating a dict gives its keys; an element of a list of strings is a string.
        if self.stringish(value, element=not iterated):
            kind = self.names
        elif self.stringish(value):
            kind = self.keyed
        else:
            kind = None
        for t in targets:
            if kind is not None:
                self._mark(t, kind)
            self._mark(t, self.sym if self.sympy_value(value) else self.other)

    def _mark(self, target, kind):
        if isinstance(target, ast.Name):
            kind.add(target.id)
        elif isinstance(target, ast.Attribute) and kind is self.names:
            self.attrs.add(target.attr)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._mark(t, kind)
        elif isinstance(target, (ast.Starred, ast.Subscript)):
            self._mark(target.value, kind)

    def stringish(self, node, element=False):
        """Whether `node` may be a string, or hold one (`element`: when one of its elements is taken):
        a literal, a string built in the code, or a name that held one."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (str, bytes))
        if isinstance(node, ast.JoinedStr):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.names or (not element and node.id in self.keyed)
        if isinstance(node, ast.Attribute):
            return node.attr in self.attrs or node.attr in self.names or node.attr in STR_ATTRIBUTES
        if isinstance(node, ast.BinOp):
            return self.stringish(node.left) or self.stringish(node.right)
        if isinstance(node, ast.BoolOp):
            return any(self.stringish(v, element) for v in node.values)
        if isinstance(node, ast.IfExp):
            return self.stringish(node.body, element) or self.stringish(node.orelse, element)
        if isinstance(node, ast.Subscript):
            return self.stringish(node.value, element=True)
        if isinstance(node, (ast.Starred, ast.NamedExpr)):
            return self.stringish(node.value, element)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return any(self.stringish(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return any(self.stringish(e) for e in node.values + ([] if element else node.keys) if e is not None)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return self.stringish(node.elt) or any(self.stringish(g.iter) for g in node.generators)
        if isinstance(node, ast.DictComp):
            return self.stringish(node.key) or self.stringish(node.value) or any(self.stringish(g.iter) for g in node.generators)
        if isinstance(node, ast.Call):
            f, values = node.func, node.args + [k.value for k in node.keywords]
            if isinstance(f, ast.Name) and (f.id in STR_CALLS or f.id in self.funcs):
                return True
            if isinstance(f, ast.Attribute):
                if f.attr in self.funcs or (f.attr in STR_METHODS and (
                        self.stringish(f.value) or any(self.stringish(v) for v in values))):
                    return True
                if f.attr in DICT_METHODS and self.stringish(f.value):
                    return True
            what, kind = self.sympy_function(f)
            if kind == "function" and what in SYMPY_PRINTERS:  # latex(Symbol("...")) gives the name back
                return True
            # Builtins, numpy and functools that hand their arguments' elements back.
            passes = (isinstance(f, ast.Name) and f.id in PASS_THROUGH) or any(
                p.startswith(("numpy.", "functools.", "itertools.")) for p in self.resolve(f))
            return passes and any(self.stringish(v) or (isinstance(v, ast.Name) and v.id in STR_CALLS) for v in values)
        return False

    def sympy_function(self, func):
        """What SymPy callable a call's `func` is, if it is one: a SymPy "function" by its path (only
        these name symbols or print), a SymPy "object" called or its method, or a "method" that is
        likely SymPy's by its name."""
        for p in self.resolve(func):
            if p == "sympy" or p.startswith("sympy."):
                return p.rsplit(".", 1)[-1], "function"
        if isinstance(func, ast.Name) and func.id in self.sym:
            return func.id, "object"  # f = Function("f"); f(...)
        if isinstance(func, ast.Attribute) and self.sympy_value(func.value) and not (
                # eq = Eq(...) here, eq = MathTex(...) there: eq.set_color_by_tex("x", RED) is Manim's.
                func.attr in self.manim_methods and isinstance(func.value, ast.Name) and func.value.id in self.other):
            return func.attr, "object"
        if isinstance(func, (ast.Call, ast.Subscript)) and self.sympy_value(func):
            inner = self.sympy_function(func.func if isinstance(func, ast.Call) else func.value)[0]
            return "%s(...)" % (inner or "?"), "object"  # Function("f")(...)
        if isinstance(func, ast.Attribute) and func.attr in SYMPY_STRING_METHODS:
            return func.attr, "method"
        return None, None

    def sympy_value(self, node):
        """Whether `node` may be a SymPy object (flow-insensitive: any binding counts)."""
        if isinstance(node, ast.Name):
            return node.id in self.sym or any(p.startswith("sympy.") for p in self.resolve(node))
        if isinstance(node, ast.Attribute):
            return any(p.startswith("sympy.") for p in self.resolve(node)) or self.sympy_value(node.value)
        if isinstance(node, (ast.Subscript, ast.Starred, ast.NamedExpr)):
            return self.sympy_value(node.value)
        if isinstance(node, ast.BinOp):
            return self.sympy_value(node.left) or self.sympy_value(node.right)
        if isinstance(node, ast.UnaryOp):
            return self.sympy_value(node.operand)
        if isinstance(node, (ast.List, ast.Tuple)):
            return any(self.sympy_value(e) for e in node.elts)
        if isinstance(node, ast.Call):
            what, kind = self.sympy_function(node.func)
            return kind == "object" or (kind == "function" and what not in SYMPY_PRINTERS)
        return False


def _args(a):
    return a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]


def _name(node):
    return node.id if isinstance(node, ast.Name) else node.attr


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

    names, scene_classes, version, library = load_names(cache)
    renames = {old: new for old, new in RENAME_CANDIDATES.items() if old != new and new in names and old not in names}
    fixes = []
    lines = code.split("\n")
    scope = Scope(tree, library)
    parent = scope.parent
    refused = {}  # Name/Attribute node -> message; an attribute of a refused chain is not refused again

    def rename(node, old, attr=False):
        new = renames[old]
        fixes.append({"line": node.lineno, "col": node.col_offset if not attr else None, "from": old, "to": new})
        warn(node, "`%s` is not part of Manim CE %s; use `%s` (changed for you)." % (old, version, new))

    def eval_use(node, what, shown):
        """sympify, S and parse_expr: allowed as S.Half or called on numbers only."""
        p = parent.get(node)
        if isinstance(p, ast.Attribute) and p.value is node:
            return None
        if (isinstance(p, ast.Call) and p.func is node and all(is_number(a) for a in p.args)
                and all(k.arg and isinstance(k.value, ast.Constant) and not isinstance(k.value.value, (str, bytes))
                        for k in p.keywords)):
            return None
        alias = "" if shown == what else "`%s` is SymPy's `%s`; " % (shown, what)
        return (alias + "`%s` of anything but a number is not allowed: SymPy runs a string given to it as Python; "
                "build the expression from symbols instead (x = Symbol(\"x\"); x**2 - 4)." % what)

    def attribute_problem(attr, paths, node):
        """Why an attribute (written out, or a constant given to getattr) is refused; None if it is not."""
        for p in paths:
            d = denied_module(p)
            if d:
                return "`%s` is not allowed in a scene: %s." % d
        if attr in ATTRIBUTES:
            return "`.%s` is not allowed in a scene: %s." % (attr, ATTRIBUTES[attr])
        if attr.startswith(("read_", "write_")) and attr not in scope.manim_methods:
            # On an object of unknown kind, a reader or writer is networkx's (nx.write_gml) unless Manim has it.
            return "`.%s` is not allowed in a scene: %s." % (attr, FILES)
        if attr in EVAL_CALLS:
            return eval_use(node, attr, attr)
        return None

    sympy_function = scope.sympy_function

    def plus_minus(node):  # limit's direction "+" / "-" is compared, never parsed
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and set(node.value) <= {"+", "-"}

    def string_to_sympy(what):
        return ("a string given to SymPy's `%s` is run as Python: build the expression from symbols instead "
                "(x = Symbol(\"x\"), then x**2 - 4 rather than \"x**2 - 4\")." % what)

    for node in scope.nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level:
                err(node, "relative imports are not allowed; import from manim, numpy or sympy")
            module_refused = False
            for m in mods:
                top = m.split(".")[0]
                if top == "manimlib":
                    err(node, GL_ONLY["manimlib"] + ".")
                elif top not in ALLOWED_IMPORTS:
                    err(node, "`import %s` is not allowed; scenes may import only %s." % (m, ", ".join(sorted(ALLOWED_IMPORTS))))
                elif denied_module(m):
                    module_refused = True
                    err(node, "`%s` is not allowed in a scene: %s." % (m, denied_module(m)[1]))
            if isinstance(node, ast.ImportFrom) and not module_refused:
                for a in node.names:
                    if a.name == "*":
                        continue
                    full = scope.origin(node.module or "", a.name)
                    if denied_module(full):
                        err(node, "`%s` is not allowed in a scene: %s." % (full, denied_module(full)[1]))
                    elif is_dunder(a.name):
                        err(node, "importing `%s` is not allowed: double-underscore names reach Python's internals; remove it." % a.name)
                    elif a.name in ATTRIBUTES or a.name in DENIED_CALLS:
                        why = ATTRIBUTES.get(a.name) or DENIED_CALLS[a.name]
                        err(node, "importing `%s` is not allowed: %s." % (a.name, why))
        elif isinstance(node, ast.Attribute):
            if is_dunder(node.attr):
                p = parent.get(node)
                # super().__init__(...) or Base.__init__(self, ...): a base class's initializer, called, is ordinary
                # Manim code; so is reading a name (Flash.__name__) or a version (manim.__version__).
                base_init = node.attr == "__init__" and isinstance(p, ast.Call) and p.func is node and (
                    isinstance(node.value, ast.Name) or (isinstance(node.value, ast.Call) and
                                                         isinstance(node.value.func, ast.Name) and node.value.func.id == "super"))
                if not (base_init or (node.attr in NAME_READS and isinstance(node.ctx, ast.Load))):
                    refused[node] = "`.%s` (a double-underscore attribute) is not allowed: it reaches Python's internals; remove it." % node.attr
            else:
                problem = attribute_problem(node.attr, scope.resolve(node), node)
                if problem:
                    refused[node] = problem
                elif node.attr == "embed":
                    warn(node, GL_ONLY["embed"] + ".")
                elif node.attr in renames:
                    rename(node, node.attr, attr=True)
        elif isinstance(node, ast.Name):
            p = parent.get(node)
            if node.id.startswith("__") and node.id.endswith("__") and node.id != "__name__":
                refused[node] = "`%s` is not allowed: double-underscore names reach Python's internals; remove it." % node.id
            elif node.id in DENIED_CALLS:
                refused[node] = "`%s` is not allowed in a scene: %s." % (node.id, DENIED_CALLS[node.id])
            elif node.id == "getattr":
                if not (isinstance(p, ast.Call) and p.func is node):
                    refused[node] = ("`getattr` may only be called, with the attribute name written out: passing, renaming "
                                     "or wrapping it hides which attribute is read; write obj.color (or getattr(obj, \"color\")) instead.")
            elif node.id in ("InteractiveScene", "GraphScene") and node.id not in names:
                err(node, GL_ONLY[node.id] + ".")
            elif isinstance(node.ctx, ast.Load):
                as_base = (isinstance(p, ast.Attribute) and p.value is node) or (
                    # getattr(np, "pi") is np.pi: the written-out name is checked at the call.
                    isinstance(p, ast.Call) and isinstance(p.func, ast.Name) and p.func.id == "getattr" and p.args[:1] == [node])
                if node.id in scope.modules and not as_base:
                    refused[node] = ("the module `%s` can only be used as `%s.<name>`: renaming or passing a module around "
                                     "hides what is used from it; write %s.<name> where you need it." % (node.id, node.id, node.id))
                else:
                    for path in sorted(scope.resolve(node)):
                        seg = path.rsplit(".", 1)[-1]
                        d = denied_module(path)
                        if d or seg in ATTRIBUTES:
                            refused[node] = "`%s` (`%s`) is not allowed in a scene: %s." % (node.id, path, d[1] if d else ATTRIBUTES[seg])
                        elif seg in EVAL_CALLS and path.startswith("sympy"):
                            problem = eval_use(node, seg, node.id)
                            if problem:
                                refused[node] = problem
                        if node in refused:
                            break
                if node not in refused and node.id in renames:
                    rename(node, node.id)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "getattr":
                key = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)) or is_dunder(key.value):
                    err(node, "`getattr` with a computed or double-underscore name is not allowed; write the attribute out.")
                else:
                    # A written-out name given to getattr is checked as the attribute it reads (and read as a value).
                    base = {q + "." + key.value for q in scope.resolve(node.args[0])}
                    problem = attribute_problem(key.value, base, node)
                    if problem:
                        err(node, problem)
            # Circle().set(__class__=Square) and .set(**{"__class__": Square}) set Python's internals.
            for k in node.keywords:
                keys = [k.arg] if k.arg else [c.value for c in getattr(k.value, "keys", [])
                                              if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                for key in keys:
                    if is_dunder(key):
                        err(node, "`%s=` (a double-underscore keyword) is not allowed: it sets Python's internals; remove it." % key)
            what, kind = sympy_function(node.func)
            surely = kind != "method"
            if what and not (kind == "function" and (what in EVAL_CALLS or what in SYMPY_PRINTERS)):
                args = node.args[1:] if kind == "function" and what in SYMPY_NAMING else node.args
                # A method of that name may be another object's (ManimBanner.expand(direction="right")):
                # a plain string keyword is SymPy's only where SymPy parses it.
                if (any(scope.stringish(a) and not plus_minus(a) for a in args)
                        or any(scope.stringish(k.value) and not (isinstance(k.value, ast.Constant) and (
                            k.arg in SYMPY_OPTIONS if surely else k.arg not in SYMPY_PARSED_OPTIONS)) for k in node.keywords)):
                    err(node, string_to_sympy(what))
            f = node.func
            if (isinstance(f, ast.Name) and f.id in HIGHER_ORDER) or (isinstance(f, ast.Attribute) and f.attr in HIGHER_ORDER):
                # map(sp.solve, ["..."]): the SymPy function gets the strings all the same.
                values = node.args + [k.value for k in node.keywords]
                for v in values:
                    inner, kind = sympy_function(v) if isinstance(v, (ast.Name, ast.Attribute)) else (None, None)
                    if inner and not (kind == "function" and inner in SYMPY_PRINTERS) and any(scope.stringish(o) for o in values if o is not v):
                        err(node, string_to_sympy(inner))
                        break
        elif isinstance(node, ast.MatchClass):
            # `case object(__globals__=g)` reads the attribute named, as getattr does.
            for attr in node.kwd_attrs:
                problem = ("`%s=` in a class pattern (a double-underscore attribute) is not allowed: it reaches Python's "
                           "internals; remove it." % attr) if is_dunder(attr) else attribute_problem(attr, set(), node)
                if problem:
                    err(node, problem)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CONFIG" for t in node.targets):
            warn(node, GL_ONLY["CONFIG"] + ".")
        if isinstance(node, (ast.arg, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef)):
            notes = [node.annotation] if isinstance(node, (ast.arg, ast.AnnAssign)) else [node.returns]
            if any(isinstance(n, ast.Constant) and isinstance(n.value, str) for a in notes if a is not None for n in ast.walk(a)):
                err(node, "a string annotation is not allowed: typing and functools evaluate it as Python; "
                          "write the type itself (v: float) or leave the annotation out.")

    for node, message in refused.items():
        inner = getattr(node, "value", None)
        while isinstance(inner, (ast.Attribute, ast.Name)) and inner not in refused:
            inner = getattr(inner, "value", None)
        if not isinstance(inner, (ast.Attribute, ast.Name)):  # no part of its chain was refused already
            err(node, message)

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
    # The scenes no other scene of the file builds on: direct code renders each, in order.
    based_on = set()
    for c in classes:
        if c.name in found:
            based_on.update(b.id if isinstance(b, ast.Name) else getattr(b, "attr", None) for b in c.bases)
    leaves = [f for f in found if f not in based_on]
    return {"valid": not errors, "errors": errors, "warnings": warnings, "scene": scene, "scenes": found, "leaves": leaves,
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
