# Tests of the static check's new allowances (Shared/Check/checker.py): networkx and
# collections imported, a base class's __init__ called, __name__ and __version__ read.
# For each, hostile code shows the dangerous part is still refused; every form the Swift
# suite (Tests/CheckTests/StaticCheckTests.swift) holds is replayed here with its
# assertions; everything the checker before these changes refused among them is still
# refused; and a scan of the newly allowed modules finds no route to the operating system
# or to files that the check lets through by name.
#
#   python Tests/Render/test_checker.py [--before OLD_CHECKER.py]
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHECKER = os.path.join(REPO, "Shared", "Check", "checker.py")
SWIFT = os.path.join(REPO, "Tests", "CheckTests", "StaticCheckTests.swift")
CACHE = os.path.join(tempfile.gettempdir(), "mathreel-test-checker-names.json")


def checks(codes, checker=CHECKER):
    """The checker as the daemons run it (a warm worker, JSON lines)."""
    src = open(checker, encoding="utf-8").read()
    lines = "".join(json.dumps({"code": c, "names_cache": CACHE}) + "\n" for c in codes)
    out = subprocess.run([sys.executable, "-I", "-c", src], input=lines, capture_output=True, text=True, timeout=600)
    ready, *replies = out.stdout.splitlines()
    assert json.loads(ready) == {"ready": True}, ready + out.stderr[-2000:]
    assert len(replies) == len(codes), out.stderr[-2000:]
    return [json.loads(r) for r in replies]


def scene(body, header="from manim import *"):
    return header + "\n\nclass Demo(Scene):\n    def construct(self):\n" + "\n".join("        " + ln for ln in body.split("\n")) + "\n"


HEADER = "from manim import *\nimport numpy as np\nimport sympy as sp\nimport functools\nimport networkx as nx\nimport collections"

# (code in construct, text of the line refused, what the refusal says)
HOSTILE = [
    # networkx: its files, drawings, plugins, settings and lazy imports.
    ("G = nx.path_graph(3)\nnx.write_gml(G, '/job/x.gml')", "nx.write_gml", "reads or writes files"),
    ("G = nx.read_edgelist('/etc/passwd')", "nx.read_edgelist", "reads or writes files"),
    ("G = nx.path_graph(3)\nnx.write_network_text(G, '/job/x')", "write_network_text", "reads or writes files"),
    ("G = nx.path_graph(3)\nnx.write_latex(G, '/job/x.tex')", "write_latex", "reads or writes files"),
    ("G = nx.bipartite.read_edgelist('/etc/passwd')", "bipartite.read_edgelist", "reads or writes files"),
    ("G = nx.readwrite.gml.read_gml('/etc/passwd')", "nx.readwrite", "`networkx.readwrite` is not allowed"),
    ("d = nx.readwrite.json_graph.node_link_data(nx.path_graph(2))", "nx.readwrite", "`networkx.readwrite` is not allowed"),
    ("G = nx.gml.read_gml('/etc/passwd')", "nx.gml.read_gml", "reads or writes files"),
    ("f = nx.gml.open_file(0, 'w')", "open_file", "`.open_file` is not allowed"),
    ("f = nx.utils.open_file(0, 'w')", "nx.utils", "`networkx.utils` is not allowed"),
    ("o = nx.utils.decorators.fopeners", "nx.utils", "`networkx.utils` is not allowed"),
    ("nx.draw(nx.path_graph(3))", "nx.draw", "reads or writes files"),
    ("nx.drawing.nx_pylab.draw(nx.path_graph(3))", "nx.drawing", "`networkx.drawing` is not allowed"),
    ("p = nx.nx_pydot.read_dot('/etc/passwd')", "nx_pydot", "`.nx_pydot` is not allowed"),
    ("p = nx.nx_agraph.write_dot(nx.path_graph(2), '/job/x')", "nx_agraph", "`.nx_agraph` is not allowed"),
    ("t = nx.generators.atlas.ATLAS_FILE.read_text()", "ATLAS_FILE", "`.ATLAS_FILE` is not allowed"),
    ("f = nx.generators.atlas.gzip.open('/job/x', 'w')", "gzip", "`.gzip` is not allowed"),
    ("m = nx.lazy_imports.lazy_import('os')", "lazy_imports", "`networkx.lazy_imports` is not allowed"),
    ("m = nx._lazy_import('os')", "_lazy_import", "`._lazy_import` is not allowed"),
    ("b = nx.utils.backends.backends", "nx.utils", "`networkx.utils` is not allowed"),
    ("nx.config.backend_priority = ['x']", "nx.config", "`networkx.config` is not allowed"),
    ("a = nx.algorithms.cycles.os.system('id')", "cycles.os", "`.os` is not allowed"),
    ("import networkx.readwrite.gml", "networkx.readwrite.gml", "`networkx.readwrite.gml` is not allowed"),
    ("from networkx import write_gml", "write_gml", "`networkx.write_gml` is not allowed"),
    ("from networkx.drawing import nx_agraph", "nx_agraph", "`networkx.drawing` is not allowed"),
    ("from networkx.utils import open_file", "open_file", "`networkx.utils` is not allowed"),
    ("import networkx.algorithms.tests", "networkx.algorithms.tests", "is not allowed"),
    ("w = getattr(nx, 'write_gml')", "getattr(nx", "reads or writes files"),
    ("g = nx\ng.write_gml(nx.path_graph(2), '/job/x')", "g = nx", "the module `nx` can only be used"),
    # networkx through Manim's own modules, and a reader or writer on an object of unknown kind.
    ("from manim.mobject.graph import nx as n2", "import nx", "is not allowed"),
    ("import manim\nmanim.mobject.graph.nx.write_gml(nx.path_graph(2), '/job/x')", "graph.nx", "`.nx` is not allowed"),
    ("h = mobject.graph\nh.nx.write_gml(nx.path_graph(2), '/job/x')", "h.nx", "`.nx` is not allowed"),
    ("o = [nx][0]\no.write_gml(nx.path_graph(2), '/job/x')", "o.write_gml", "`.write_gml` is not allowed"),
    ("import manim\nc = manim.mobject.graph.networkx.config", "networkx.config", "`networkx.config` is not allowed"),
    # collections: its own sys, and everything that was refused before.
    ("m = collections._sys.modules", "collections._sys", "`._sys` is not allowed"),
    ("from collections import _sys", "import _sys", "importing `_sys` is not allowed"),
    ("m = collections.abc.sys", "abc.sys", "`.sys` is not allowed"),
    ("d = collections.defaultdict(eval)", "defaultdict(eval)", "`eval` is not allowed"),
    ("c = collections.ChainMap(globals())", "globals()", "`globals` is not allowed"),
    # A base class's __init__ may be called, not read, and nothing beyond it.
    ("f = Square.__init__", "Square.__init__", "double-underscore attribute"),
    ("g = Square.__init__.__globals__", "__globals__", "double-underscore attribute"),
    ("Square().__init__()", "Square().__init__", "double-underscore attribute"),
    ("s = Square()\nm = s.__init__(side_length=2).__class__", "__class__", "double-underscore attribute"),
    # __name__ and __version__ are read, never written, and are strings to SymPy.
    ("Square.__name__ = 'x'", "Square.__name__", "double-underscore attribute"),
    ("e = sp.sympify(Square.__name__)", "sp.sympify", "`sympify` of anything but a number"),
    ("e = sp.simplify(np.__version__)", "sp.simplify", "a string given to SymPy's `simplify`"),
    ("m = getattr(np, Square.__name__)", "getattr(np", "`getattr` with a computed"),
    ("d = rate_functions.__dict__", "__dict__", "double-underscore attribute"),
    ("m = Square.__module__", "__module__", "double-underscore attribute"),
]

ACCEPTED = [
    "G = nx.erdos_renyi_graph(8, 0.5, seed=1)\ng = Graph.from_networkx(G, layout='spring', layout_scale=3)\nself.add(g)",
    "G = nx.Graph()\nG.add_edges_from([(0, 1), (1, 2)])\npos = nx.spring_layout(G, seed=1)\nd = nx.shortest_path_length(G, 0, 2)",
    "from networkx import path_graph\nG = path_graph(4)\ns = nx.generate_gml(G)",
    "d = collections.defaultdict(dict)\nc = collections.Counter('abca')\nq = collections.deque([1, 2])",
    "class Tip(ArrowTip, RegularPolygon):\n    def __init__(self, length=0.35, **kwargs):\n        RegularPolygon.__init__(self, n=5, **kwargs)\nself.add(Arrow(LEFT, RIGHT, tip_shape=Tip))",
    "names = [Tex(a.__name__) for a in [Flash, Wiggle]]\nt = Title(f'Manim {np.__version__}')",
    "v = VectorScene()\nw = v.write_vector_coordinates",
]


def swift_strings(text):
    """The Swift string literals of `text`, unescaped (\\n, \\t, \\", \\\\)."""
    out = []
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
        out.append(re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)), m.group(1)))
    return out


def swift_tuples(block):
    """The tuples of a Swift argument list: each a list of its string and integer fields."""
    rows = []
    for m in re.finditer(r'^\s*\((.*)\),\s*(?://.*)?$', block, re.M):
        inner = m.group(1)
        fields = []
        for tok in re.finditer(r'"((?:[^"\\]|\\.)*)"|(-?\d+)', inner):
            fields.append(swift_strings('"%s"' % tok.group(1))[0] if tok.group(1) is not None else int(tok.group(2)))
        rows.append(fields)
    return rows


def swift_tables():
    """The Swift suite's tables: refused imports, refused names, refused forms, accepted forms."""
    text = open(SWIFT, encoding="utf-8").read()

    def block(start):
        i = text.index(start)
        j = text.index("\n    ]", i)
        return text[i:j]
    imports = swift_tuples(block("@Test(arguments: [\n        (\"import os\""))
    names = swift_tuples(block("@Test(arguments: [\n        (\"__import__"))
    refused = swift_tuples(block("static let refusedForms"))
    accepted = swift_strings(block("static let acceptedForms").split("=", 1)[1])
    return imports, names, refused, accepted


def lines_of(code):
    return code.split("\n")


def test_swift_suite_replayed(results):
    imports, names, refused, accepted = swift_tables()
    assert len(imports) >= 6 and len(names) >= 10 and len(refused) >= 80 and len(accepted) >= 20, (
        len(imports), len(names), len(refused), len(accepted))
    bad = []
    for header, line, says in imports:
        code = scene("self.wait()", header="from manim import *\n" + header)
        r = results[code]
        if r["valid"] or not any(e["line"] == line + 1 and says in e["message"] for e in r["errors"]):
            bad.append(("import", header, r["errors"]))
    for body, says in names:
        code = scene("self.wait()\n" + body, header="from manim import *\nimport numpy as np")
        r = results[code]
        if r["valid"] or not any(says in e["message"] for e in r["errors"]):
            bad.append(("name", body, r["errors"]))
    for body, line_text, says in refused:
        code = scene(body, header="from manim import *\nimport numpy as np\nimport sympy as sp\nimport functools")
        r, ls = results[code], lines_of(code)
        if r["valid"] or not any(says in e["message"] and e["line"] > 0 and line_text in ls[e["line"] - 1] for e in r["errors"]):
            bad.append(("refused", body, r["errors"]))
    for body in accepted:
        code = scene(body, header="from manim import *\nimport numpy as np\nimport sympy as sp\nimport functools")
        r = results[code]
        if not (r["valid"] and not r["warnings"] and r["code"] == code):
            bad.append(("accepted", body, r["errors"] + r["warnings"]))
    assert not bad, "\n".join(map(str, bad))
    return len(imports) + len(names) + len(refused) + len(accepted)


def swift_codes():
    imports, names, refused, accepted = swift_tables()
    h = "from manim import *\nimport numpy as np\nimport sympy as sp\nimport functools"
    return ([scene("self.wait()", header="from manim import *\n" + x[0]) for x in imports]
            + [scene("self.wait()\n" + x[0], header="from manim import *\nimport numpy as np") for x in names]
            + [scene(x[0], header=h) for x in refused] + [scene(x, header=h) for x in accepted])


def test_hostile(results):
    bad = []
    for body, line_text, says in HOSTILE:
        code = scene(body, header=HEADER)
        r, ls = results[code], lines_of(code)
        if r["valid"] or not any(says in e["message"] and e["line"] > 0 and line_text in ls[e["line"] - 1] for e in r["errors"]):
            bad.append((body, r["errors"]))
    assert not bad, "\n".join(map(str, bad))
    return len(HOSTILE)


def test_accepted(results):
    bad = []
    for body in ACCEPTED:
        r = results[scene(body, header=HEADER)]
        if not r["valid"]:
            bad.append((body, r["errors"]))
    assert not bad, "\n".join(map(str, bad))
    return len(ACCEPTED)


def test_what_was_refused_stays_refused(results, before):
    """Every code the checker before refused (the Swift suite's forms, the hostile ones here
    and the doc examples) is refused now, unless it is one of this change's allowances."""
    sys.path.insert(0, HERE)
    import doc_examples
    examples, _ = doc_examples.extract()
    codes = swift_codes() + [scene(b, header=HEADER) for b, _, _ in HOSTILE] + [e["code"] for e in examples]
    old = checks(codes, before)
    new = [results.get(c) for c in codes]
    missing = [c for c, r in zip(codes, new) if r is None]
    new_missing = checks(missing) if missing else []
    fill = dict(zip(missing, new_missing))
    new = [r if r is not None else fill[c] for c, r in zip(codes, new)]
    newly = [(c, o) for c, o, n in zip(codes, old, new) if not o["valid"] and n["valid"]]
    # What may newly pass: only code whose every old refusal was one of the allowances.
    allowances = re.compile(r"`import (networkx|collections)` is not allowed|`nx` \(`networkx`\) is not allowed|"
                            r"`\.(__init__|__name__|__version__)` \(a double-underscore attribute\)")
    wrong = [(c, [e["message"] for e in o["errors"]]) for c, o in newly
             if not all(allowances.search(e["message"]) for e in o["errors"])]
    assert not wrong, "\n\n".join("%s\n%s" % w for w in wrong)
    return len(codes), len(newly)


def test_no_route_out_of_the_new_modules():
    """From networkx and collections (every module they load), no attribute that holds the
    operating system, Python's internals or a way to open files is let through by name."""
    sys.path.insert(0, os.path.dirname(CHECKER))
    import checker
    import collections
    import collections.abc
    import networkx
    assert collections.abc and networkx  # loaded, so every module they load is in sys.modules
    danger = ("os", "posix", "sys", "subprocess", "io", "_io", "shutil", "importlib", "inspect", "tempfile", "pathlib",
              "gzip", "bz2", "lzma", "zipfile", "tarfile", "logging", "pickle", "ctypes", "builtins", "socket", "urllib",
              "http", "threading", "_thread", "multiprocessing", "xml", "runpy", "pkgutil", "code", "codeop", "glob",
              "gc", "marshal", "signal", "mmap", "fcntl", "asyncio", "shelve", "dbm", "sqlite3", "webbrowser", "platform",
              "sysconfig", "site", "zipimport", "linecache", "tokenize", "traceback", "pdb")
    harmless = {"StringIO", "splitext"}  # in memory; a string function

    def reaches(v):
        if isinstance(v, types.ModuleType):
            return v.__name__
        m = getattr(v, "__module__", None) if callable(v) else type(v).__module__
        if isinstance(v, dict) and any(callable(x) and getattr(x, "__module__", "") in danger + ("builtins",)
                                       for x in v.values()):
            return "a dict of openers"
        return m if isinstance(m, str) and m != "builtins" else None

    holes = []
    for name, mod in sorted(sys.modules.items()):
        if mod is None or name.split(".")[0] not in ("networkx", "collections") or checker.denied_module(name):
            continue
        for k, v in list(vars(mod).items()):
            if k.startswith("__") or k in harmless:
                continue
            target = reaches(v)
            if not target or not (target in danger or target.split(".")[0] in danger or target == "a dict of openers"):
                continue
            if k in checker.ATTRIBUTES or k in checker.DENIED_CALLS or checker.denied_module(name + "." + k):
                continue
            holes.append("%s.%s -> %s" % (name, k, target))
    assert not holes, holes
    return sum(1 for n in sys.modules if n.split(".")[0] in ("networkx", "collections"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="the checker before these changes (default: git's HEAD~ of the checker's last change)")
    a = ap.parse_args()
    before = a.before
    if not before:
        # The checker as it was before networkx was allowed: the first commit's parent that lacks it.
        rev = subprocess.run(["git", "-C", REPO, "log", "--format=%H", "-S", '"networkx", "collections"}', "--",
                              "Shared/Check/checker.py"], capture_output=True, text=True).stdout.split()
        base = (rev[-1] + "~") if rev else "HEAD"
        before = os.path.join(tempfile.gettempdir(), "mathreel-checker-before.py")
        with open(before, "w") as f:
            f.write(subprocess.run(["git", "-C", REPO, "show", "%s:Shared/Check/checker.py" % base],
                                   capture_output=True, text=True, check=True).stdout)
    codes = swift_codes() + [scene(b, header=HEADER) for b, _, _ in HOSTILE] + [scene(b, header=HEADER) for b in ACCEPTED]
    results = dict(zip(codes, checks(codes)))
    failed = 0
    for name, f, args in [("swift suite replayed", test_swift_suite_replayed, (results,)),
                          ("hostile code refused", test_hostile, (results,)),
                          ("new allowances accepted", test_accepted, (results,)),
                          ("refused before, refused now", test_what_was_refused_stays_refused, (results, before)),
                          ("no route out of the new modules", test_no_route_out_of_the_new_modules, ())]:
        try:
            print("ok    %-34s %s" % (name, f(*args)), flush=True)
        except AssertionError as e:
            failed += 1
            print("FAIL  %s: %s" % (name, str(e)[:4000]), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
