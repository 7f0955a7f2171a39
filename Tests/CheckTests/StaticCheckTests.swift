// The static check against the real Manim environment (.venv from `make setup`):
// good scenes pass, reaching outside is refused with the line, removed names
// are renamed from what the installed Manim has, and the scene is found.
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
        ("import manim\nmanim.utils.file_ops.os.system('id')", "`.os` is not allowed"),
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
