// Taking the code out of a model's reply, whatever it wraps it in.
@testable import CodegenService
import MathreelProviders
import Testing

@Suite struct ExtractionTests {
    let scene = "from manim import *\n\nclass Solution(Scene):\n    def construct(self):\n        self.play(Create(Circle()))"

    @Test func aFencedBlockWithProseAround() throws {
        let reply = "Sure! Here is the animation:\n\n```python\n\(scene)\n```\n\nIt draws a circle. Let me know if you need more."
        #expect(try Extraction.code(from: reply) == scene + "\n")
    }

    @Test func thinkingIsNotTheAnswer() throws {
        let reply = "<think>Maybe ```python\nclass Wrong(Scene): pass\n``` no.</think>\n```py\n\(scene)\n```"
        let code = try Extraction.code(from: reply)
        #expect(code.contains("class Solution") && !code.contains("Wrong"))
    }

    @Test func severalBlocksTheSceneWins() throws {
        let reply = "Install it:\n```bash\npip install manim\n```\nThen:\n```python\n\(scene)\n```\nRun with:\n```\nmanim -ql scene.py Solution\n```"
        #expect(try Extraction.code(from: reply) == scene + "\n")
    }

    @Test func importsAndSceneInSeparateBlocksAreJoined() throws {
        let reply = "```python\nfrom manim import *\nimport numpy as np\n```\n```python\nclass Solution(Scene):\n    def construct(self):\n        self.wait()\n```"
        let code = try Extraction.code(from: reply)
        #expect(code.hasPrefix("from manim import *\nimport numpy as np") && code.contains("class Solution(Scene)"))
    }

    @Test func noFencesAtAll() throws {
        let reply = "Here you go.\n\(scene)"
        #expect(try Extraction.code(from: reply) == scene + "\n")
    }

    @Test func aMissingImportIsAdded() throws {
        let reply = "```python\nclass Solution(Scene):\n    def construct(self):\n        self.wait()\n```"
        #expect(try Extraction.code(from: reply).hasPrefix("from manim import *\n"))
    }

    @Test func proseWithoutCodeIsNoCode() {
        #expect(throws: ProviderFailure.noCode("no code block in the reply")) { try Extraction.code(from: "I cannot help with that.") }
        #expect(throws: ProviderFailure.noCode("no Scene class in the reply's code")) {
            try Extraction.code(from: "```python\nprint('hello')\n```")
        }
    }

    @Test func aReplyCutShortStillYieldsWhatItHas() throws {
        let code = try Extraction.code(from: "```python\n\(scene)\n        self.wait(")
        #expect(code.contains("self.wait("), "the check, not extraction, decides whether it is usable")
    }
}
