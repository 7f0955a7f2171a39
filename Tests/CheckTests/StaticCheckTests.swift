// The static check against the real Manim environment (.venv from `make setup`):
// good scenes (and legitimate code near the refused forms) pass, each way of
// reaching outside in the refused-forms table is refused with its line and what
// to change, removed names are renamed from what the installed Manim has, and
// the scene is found.
import Foundation
import MathreelCheck
import MathreelCore
import Testing
import TestSupport

/// One cache for the suite: the first check imports Manim (about a second), the rest read the cache.
let sharedCache = TempDir("mathreel-check-cache")

func checker(_ dir: TempDir = sharedCache) -> StaticChecker {
    var c = StaticChecker(python: manimPython, cacheFile: dir.path + "/names.json")
    // The first check imports Manim, which can take long while the rest of the suite loads the machine.
    c.timeout = 120
    return c
}

func scene(_ body: String, header: String = "from manim import *") -> String {
    "\(header)\n\nclass Demo(Scene):\n    def construct(self):\n" + body.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n") + "\n"
}

// Serialized: the first check fills the shared cache, and the rest read it instead of each importing Manim.
@Suite(.serialized) struct StaticCheckTests {
    @Test func aGoodSceneIsValidAndItsSceneIsFound() async throws {
        let dir = TempDir()
        let r = try await checker(dir).check(scene("eq = MathTex(r\"x^2 - 5x + 6 = 0\")\nself.play(Write(eq))", header: "from manim import *\nimport numpy as np\nimport sympy"))
        #expect(r.valid && r.errors.isEmpty, "\(r.errors)")
        #expect(r.scene == "Demo" && r.scenes == ["Demo"])
        #expect(r.manimVersion == "0.22.0")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/names.json"), "the installed Manim's names are cached")
    }

    /// Each way out, with the line the person must change.
    @Test(arguments: [
        ("import os", 1, "`import os` is not allowed"),
        ("import subprocess, sys", 1, "`import subprocess` is not allowed"),
        ("from manimlib import *", 1, "ManimGL"),
        ("from . import helpers", 1, "relative imports"),
        ("import numpy.ctypeslib", 1, "`numpy.ctypeslib` is not allowed"),
        ("from manim.utils.file_ops import os", 1, "not allowed"),
    ])
    func importsThatReachOutsideAreRefused(_ header: String, _ line: Int, _ says: String) async throws {
        let r = try await checker().check(scene("self.wait()", header: "from manim import *\n" + header))
        #expect(!r.valid)
        #expect(r.errors.contains { $0.line == line + 1 && $0.message.contains(says) }, "\(r.errors)")
    }

    @Test(arguments: [
        ("__import__('os').system('id')", "`__import__` is not allowed"),
        ("eval('1+1')", "`eval` is not allowed"),
        ("exec('x=1')", "`exec` is not allowed"),
        ("f = open('/etc/passwd')", "`open` is not allowed"),
        ("g = globals()", "`globals` is not allowed"),
        ("m = getattr(np, 'o' + 's')", "`getattr` with a computed"),
        ("m = getattr(self, '__class__')", "`getattr` with a computed or double-underscore"),
        ("b = ().__class__.__bases__[0].__subclasses__()", "double-underscore attribute"),
        ("import manim\nmanim.utils.file_ops.os.system('id')", "`manim.utils.file_ops` is not allowed"),
        ("c = compile('1', 'x', 'eval')", "`compile` is not allowed"),
    ])
    func namesThatReachOutsideAreRefusedWithTheirLine(_ body: String, _ says: String) async throws {
        let code = scene("self.wait()\n" + body, header: "from manim import *\nimport numpy as np")
        let r = try await checker().check(code)
        #expect(!r.valid)
        let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
        let bad = r.errors.filter { $0.message.contains(says) }
        #expect(!bad.isEmpty, "\(r.errors)")
        for f in bad { #expect(f.line > 0 && lines[f.line - 1].contains(body.split(separator: "\n").last!.prefix(8)), "line \(f.line)") }
    }

    /// The refused forms (the bypasses first, then ones found beyond it): the code in
    /// `construct`, text of the line the refusal must name, and what the refusal says.
    static let refusedForms: [(String, String, String)] = [
        // The list.
        ("g = getattr\nm = g(np, 'o' + 's')", "g = getattr", "`getattr` may only be called"),
        ("m = getattr(np, 'os')", "getattr(np, 'os')", "`.os` is not allowed"),
        ("from manim.utils import file_ops", "import file_ops", "`manim.utils.file_ops` is not allowed"),
        ("from numpy import ctypeslib", "import ctypeslib", "`numpy.ctypeslib` is not allowed"),
        ("m = functools.reduce(getattr, ['os'], np)", "functools.reduce", "`getattr` may only be called"),
        ("e = sp.sympify(\"__import__('os').system('id')\")", "sp.sympify", "`sympify` of anything but a number"),
        ("a = np.fromfile('/etc/passwd')", "np.fromfile", "`.fromfile` is not allowed in a scene: it reads or writes files"),
        ("a = np.load('x.npy', allow_pickle=True)", "np.load", "`.load` is not allowed in a scene: it reads or writes files"),
        ("np.zeros(3).tofile('/tmp/x')", "tofile", "`.tofile` is not allowed in a scene: it reads or writes files"),
        // Refused builtins aliased, passed as values or wrapped.
        ("v = vars(np)", "vars(np)", "`vars` is not allowed"),
        ("setattr(self, 'x', 1)", "setattr", "`setattr` is not allowed"),
        ("delattr(self, 'x')", "delattr", "`delattr` is not allowed"),
        ("f = list(map(getattr, [np], ['os']))", "map(getattr", "`getattr` may only be called"),
        ("f = functools.partial(getattr, np)", "partial(getattr", "`getattr` may only be called"),
        ("f = lambda o, n: getattr(o, n)", "lambda o, n", "`getattr` with a computed or double-underscore name"),
        ("e = eval\ne('1')", "e = eval", "`eval` is not allowed"),
        ("g = getattr(np, 'lib')", "getattr(np, 'lib')", "`numpy.lib` is not allowed in a scene: it reads or writes files"),
        ("c = Circle().get___class__()", "get___class__", "double-underscore attribute"),
        ("c = getattr(Circle(), 'set___class__')", "set___class__", "double-underscore"),
        ("c = Circle().set(__class__=Square)", "__class__=Square", "double-underscore keyword"),
        ("import manim\na = manim.mobject.mobject.op.attrgetter('os')(np)", "attrgetter", "`.attrgetter` is not allowed in a scene: it looks attributes up by a computed name"),
        ("import manim\nm = manim.mobject.mobject.op.methodcaller('system', 'id')", "methodcaller", "`.methodcaller` is not allowed in a scene: it looks attributes up"),
        ("import sympy.core.symbol\nf = sympy.core.symbol.string.Formatter().get_field('0.os', [np], {})", "Formatter", "`.Formatter` is not allowed in a scene: it looks attributes up"),
        ("import manim\nm = manim.scene.scene.inspect.getmembers(np)", "inspect", "`.inspect` is not allowed"),
        // A module passed around as a value escapes every check on its attributes.
        ("m = np\nf = m.lib", "m = np", "the module `np` can only be used as `np.<name>`"),
        ("m, n = sp, 1\ne = m.sympify('1')", "m, n = sp", "the module `sp` can only be used"),
        // SymPy runs strings as Python: sympify, S, parse_expr, lambdify and any function given a string.
        ("e = sp.parse_expr(\"__import__('os')\")", "sp.parse_expr", "`parse_expr` of anything but a number"),
        ("e = sp.S(\"__import__('os')\")", "sp.S(", "`S` of anything but a number"),
        ("s = sp.sympify\ne = s('1')", "s = sp.sympify", "`sympify` of anything but a number"),
        ("from sympy import sympify as s\ne = s('open(1)')", "e = s(", "`sympify` of anything but a number"),
        ("from sympy import *\ne = S('open(1)')", "e = S(", "`S` of anything but a number"),
        ("x = sp.Symbol('x')\nf = sp.lambdify(x, x**2)", "sp.lambdify", "`.lambdify` is not allowed in a scene: it writes Python source"),
        ("x = sp.Symbol('x')\nr = sp.solve(\"open('/etc/passwd')\", x)", "sp.solve", "a string given to SymPy's `solve` is run as Python"),
        ("x = sp.Symbol('x')\ny = (x**2).subs(x, \"open('/etc/passwd')\")", ".subs", "a string given to SymPy's `subs`"),
        ("src = \"open('/etc/\" + \"passwd')\"\nr = sp.simplify(src)", "sp.simplify", "a string given to SymPy's `simplify`"),
        ("x = sp.Symbol('x')\np = sp.Poly(x, x, domain=\"QQ<open('/etc/passwd')>\")", "sp.Poly", "a string given to SymPy's `Poly`"),
        ("def f(s):\n    return sp.expand(s)\ny = f('open(1)')", "sp.expand(s)", "a string given to SymPy's `expand`"),
        ("x = sp.Symbol('x')\np = sp.preview(x, viewer='file', filename='/tmp/x.png')", "sp.preview", "`sympy.preview` is not allowed"),
        // NumPy file I/O, C and test runners.
        ("np.save('/tmp/x.npy', np.zeros(2))", "np.save", "`.save` is not allowed in a scene: it reads or writes files"),
        ("np.savez('/tmp/x', a=np.zeros(2))", "np.savez", "`.savez` is not allowed in a scene: it reads or writes files"),
        ("np.savetxt('/tmp/x', np.zeros(2))", "np.savetxt", "`.savetxt` is not allowed in a scene: it reads or writes files"),
        ("a = np.loadtxt('/etc/passwd')", "np.loadtxt", "`.loadtxt` is not allowed in a scene: it reads or writes files"),
        ("a = np.genfromtxt('/etc/passwd')", "np.genfromtxt", "`.genfromtxt` is not allowed in a scene: it reads or writes files"),
        ("a = np.memmap('/etc/passwd')", "np.memmap", "`.memmap` is not allowed in a scene: it reads or writes files"),
        ("a = np.lib.format.open_memmap('/tmp/x')", "np.lib", "`numpy.lib` is not allowed in a scene: it reads or writes files"),
        ("a = np.rec.fromfile('/etc/passwd')", "np.rec.fromfile", "`.fromfile` is not allowed in a scene: it reads or writes files"),
        ("np.zeros(2).dump('/tmp/x')", ".dump(", "`.dump` is not allowed in a scene: it reads or writes files"),
        ("np.ctypeslib.load_library('libc', '/lib')", "np.ctypeslib", "`numpy.ctypeslib` is not allowed"),
        ("np.test()", "np.test", "`numpy.test` is not allowed"),
        ("from numpy import *\na = load('x.npy')", "load(", "`load` (`numpy.load`) is not allowed"),
        ("import numpy.lib.format", "numpy.lib.format", "`numpy.lib.format` is not allowed"),
        ("from numpy.lib import npyio", "npyio", "`numpy.lib` is not allowed"),
        // The operating system, pickle, importlib, pathlib and io through a module's attribute.
        ("import random\nr = random._os.system('id')", "random._os", "`._os` is not allowed"),
        ("import manim\nr = manim.utils.file_ops.sp.run(['id'])", "file_ops", "`manim.utils.file_ops` is not allowed"),
        ("import numpy\np = numpy._core._methods.pickle", "pickle", "`.pickle` is not allowed"),
        ("import sympy\nm = sympy.external.importtools.import_module('os')", "import_module", "`sympy.external` is not allowed"),
        ("from sympy.core.cache import import_module", "import_module", "importing `import_module` is not allowed"),
        ("import manim\np = manim.mobject.mobject.Path('/etc/passwd').read_text()", "Path(", "`.Path` is not allowed in a scene: it reads or writes files"),
        ("import typing\nf = typing.io", "typing.io", "`.io` is not allowed"),
        ("import manim\nlog = manim._config.logging.FileHandler('/tmp/x')", "logging", "`.logging` is not allowed"),
        ("import sympy\nt = sympy.utilities.timeutils.timeit.timeit('1')", "timeit", "`.timeit` is not allowed"),
        ("capture(['id'])", "capture", "`capture` (`manim.utils.commands.capture`) is not allowed"),
        ("open_file('/etc/passwd')", "open_file", "`open_file` (`manim.utils.file_ops.open_file`) is not allowed"),
        ("guarantee_empty_existence('/tmp/x')", "guarantee_empty_existence", "is not allowed"),
        ("r = utils.commands.capture(['id'])", "utils.commands", "`manim.utils.commands` is not allowed"),
        ("p = plugins.get_plugins()", "plugins", "`plugins` (`manim.plugins`) is not allowed"),
        ("from manim import capture", "import capture", "`manim.utils.commands.capture` is not allowed"),
        ("from manim.utils.commands import capture", "manim.utils.commands", "`manim.utils.commands` is not allowed"),
        // Python's own ways to run a string or reach a frame.
        ("import typing\ndef f(a: \"__import__('os')\"): pass\nh = typing.get_type_hints(f)", "def f(a:", "a string annotation"),
        ("import typing\nh = typing.get_type_hints(Circle)", "get_type_hints", "`.get_type_hints` is not allowed in a scene: it runs a string as Python"),
        ("g = (i for i in [1])\nc = g.gi_code", "gi_code", "`.gi_code` is not allowed"),
        ("g = (i for i in [1])\nb = g.gi_frame", "gi_frame", "`.gi_frame` is not allowed"),
        ("match (lambda: 0):\n    case object(__globals__=g):\n        pass", "case object", "double-underscore attribute"),
        ("console.save_text('/tmp/x')", "save_text", "`.save_text` is not allowed in a scene: it reads or writes files"),
        // A string reaching SymPy by another way: a SymPy object called, a method, a symbol's name, map().
        ("f = sp.Function('f')\ny = f(\"open('/etc/passwd')\")", "y = f(", "a string given to SymPy's `f`"),
        ("p = sp.Point(0, 0).rotate(\"open('/etc/passwd')\")", "rotate", "a string given to SymPy's `rotate`"),
        ("x = sp.Symbol(\"open('/etc/passwd')\")\ny = sp.simplify(sp.latex(x))", "sp.simplify", "a string given to SymPy's `simplify`"),
        ("r = sp.simplify(Text(\"open('/etc/passwd')\").text)", "sp.simplify", "a string given to SymPy's `simplify`"),
        ("r = sp.Tuple('eval')[0]", "sp.Tuple", "a string given to SymPy's `Tuple`"),
        ("r = list(map(sp.simplify, [\"open('/etc/passwd')\"]))", "map(sp.simplify", "a string given to SymPy's `simplify`"),
        ("c = Circle().set(**{'__class__': Square})", "set(**", "double-underscore keyword"),
    ]

    @Test(arguments: refusedForms)
    func eachRefusedFormNamesItsLineAndSaysWhatToChange(_ body: String, _ lineText: String, _ says: String) async throws {
        let code = scene(body, header: "from manim import *\nimport numpy as np\nimport sympy as sp\nimport functools")
        let r = try await checker().check(code)
        #expect(!r.valid, "accepted: \(body)")
        let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
        let named = r.errors.filter { $0.message.contains(says) && $0.line > 0 && lines[$0.line - 1].contains(lineText) }
        #expect(!named.isEmpty, "\(r.errors)")
        // In words for a person: each refusal says why, or what to write instead, after the name it refuses.
        for f in named { #expect(f.message.count > 40 && (f.message.contains(":") || f.message.contains(";")), "\(f.message)") }
    }

    /// Legitimate scene code near the refused forms: it must stay valid and unchanged.
    static let acceptedForms: [String] = [
        "a = np.array([1, 2, 3]) * np.sin(np.linspace(0, np.pi, 3))",
        "r = np.random.default_rng(0).random(3)\nd = np.linalg.det(np.eye(2))",
        "x = sp.Symbol('x')\nr = sp.solve(x**2 - 4, x)\nt = MathTex(sp.latex(sp.diff(x**3, x)))",
        "a, b = sp.symbols('a b')\nf = sp.Function('f')(a)\ne = sp.Eq(a + b, 2)",
        "label = 'x'\nx = sp.Symbol(label)\ny = float((x**2).subs(x, 1.5))",
        "h = sp.S(1) / 3 + sp.S.Half + sp.Rational(1, 3) + sp.sympify(2)",
        "x = sp.Symbol('x')\nt = sp.latex(x**2, mode='inline')\nn = sp.N(sp.pi, 5)",
        "m = sp.Matrix([[1, 2], [3, 4]]).det()",
        "c = getattr(self, 'camera')\ncol = getattr(Circle(), 'color', WHITE)",
        "m = Matrix([[\"a\", \"b\"], [\"c\", \"d\"]])",
        "self.play(Create(Circle()), rate_func=rate_functions.smooth)",
        "s = functools.reduce(lambda a, b: a + b, [1, 2, 3])\nys = list(map(np.sin, [0.0, 1.0]))",
        "t = Text(\", \".join([\"a\", \"b\"]).replace(\"a\", \"c\") + \"{:.2f}\".format(1.5) + \"____\")",
        "n: int = 3\ndef f(v: float) -> float:\n    return v * 2",
        "class Box(VGroup):\n    def __init__(self, **kwargs):\n        super().__init__(Square(), **kwargs)\nself.add(Box())",
        "ax = Axes()\ng = ax.plot(lambda t: np.sin(t), color=BLUE)\nself.path = Line()",
        "config.background_color = BLACK",
        "banner = ManimBanner()\nself.play(banner.expand(direction='right'))",
        "x = sp.Symbol('x')\neq = sp.Eq(x**2, 4)\neq = MathTex('x^2 = 4')\neq.set_color_by_tex('x', RED)",
        "x = sp.Symbol('x')\nl = sp.limit(sp.sin(x) / x, x, 0, '+') + sp.limit(1 / x, x, 0, dir='-')",
        "match Circle():\n    case Circle(color=c):\n        pass",
        "for color in [RED, BLUE]:\n    self.add(Circle(color=color))",
    ]

    @Test(arguments: acceptedForms)
    func legitimateFormsNearTheRefusedOnesStayValid(_ body: String) async throws {
        let code = scene(body, header: "from manim import *\nimport numpy as np\nimport sympy as sp\nimport functools")
        let r = try await checker().check(code)
        #expect(r.valid && r.warnings.isEmpty && r.code == code, "\(r.errors) \(r.warnings)")
    }

    @Test func removedNamesAreRenamedWhenTheInstalledManimHasTheReplacement() async throws {
        let r = try await checker().check(scene("t = TextMobject(\"hi\")\nself.play(ShowCreation(Circle()))\nself.play(Create(Square()))"))
        #expect(r.valid, "\(r.errors)")
        #expect(r.code.contains("Create(Circle())") && r.code.contains("t = Tex(\"hi\")"))
        #expect(!r.code.contains("ShowCreation") && !r.code.contains("TextMobject"))
        #expect(r.warnings.map(\.description).contains("Line 6: `ShowCreation` is not part of Manim CE 0.22.0; use `Create` (changed for you)."), "\(r.warnings)")
        // A name the installed Manim has is never touched.
        let untouched = try await checker().check(scene("self.play(Create(Circle()))"))
        #expect(untouched.warnings.isEmpty && untouched.code.contains("Create(Circle())"))
    }

    @Test func theSceneToRenderIsFoundOrTheProblemIsSaid() async throws {
        let c = checker()
        let none = try await c.check("from manim import *\nx = 1\n")
        #expect(!none.valid && none.errors.first?.message.contains("no Scene class") == true)
        let two = "from manim import *\nclass A(Scene):\n    def construct(self): pass\nclass B(ThreeDScene):\n    def construct(self): pass\nclass C(A):\n    def construct(self): pass\n"
        let last = try await c.check(two)
        #expect(last.valid && last.scene == "C" && last.scenes == ["A", "B", "C"])
        let named = try await c.check(two, scene: "B")
        #expect(named.scene == "B")
        let missing = try await c.check(two, scene: "Nope")
        #expect(!missing.valid && missing.errors.contains { $0.message.contains("no Scene class named `Nope`") })
    }

    @Test func syntaxErrorsSayTheLine() async throws {
        let r = try await checker().check("from manim import *\nclass A(Scene):\n    def construct(self)\n        pass\n")
        #expect(!r.valid && r.errors.first?.line == 3 && r.errors.first?.message.contains("cannot parse") == true)
        let deep = try await checker().check("x = " + String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000))
        #expect(!deep.valid, "a pathological nesting is an error, not a crash")
    }

    @Test func oneWarmCheckerServesManyChecksAndIsReplacedWhenItDies() async throws {
        let c = checker()
        defer { Task { await c.stop() } }
        #expect(try await c.check(scene("self.add(Circle())")).valid)
        let first = try #require(await c.workerPID())
        let bad = try await c.check(scene("import os"))
        #expect(!bad.valid && bad.message.contains("`import os` is not allowed"))
        #expect(await c.workerPID() == first, "the second check used the same process")
        // Killed without notice: the next check starts a fresh one and still answers.
        kill(first, SIGKILL)
        #expect(try await c.check(scene("self.add(Square())")).valid)
        #expect(await c.workerPID() != first)
    }

    @Test func noSecretOfTheCallerReachesTheChecker() async throws {
        // A stand-in "python" that records the environment it was given.
        setenv("MATHREEL_CANARY_SECRET", "canary-4f1e", 1)
        defer { unsetenv("MATHREEL_CANARY_SECRET") }
        let dir = TempDir()
        let fake = dir.path + "/python"
        try "#!/bin/sh\nenv > \(dir.path)/env.txt\n".write(toFile: fake, atomically: false, encoding: .utf8)
        chmod(fake, 0o755)
        await #expect(throws: CheckUnavailable.self) { try await StaticChecker(python: fake, cacheFile: nil).check("x = 1") }
        let env = try String(contentsOfFile: dir.path + "/env.txt", encoding: .utf8)
        #expect(!env.contains("canary-4f1e"))
        #expect(env.contains("PATH=/usr/bin:/bin"))
    }

    @Test func aMissingPythonSaysHowToFixIt() async throws {
        let error = await #expect(throws: CheckUnavailable.self) {
            try await StaticChecker(python: "/nonexistent/python", cacheFile: nil).check("x = 1")
        }
        #expect(error?.description.contains("make setup") == true)
    }
}
