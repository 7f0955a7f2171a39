// mathreel: the command people type. Everything lives in MathreelCommand (the
// library the tests import); this file only starts it.
import MathreelCommand

@main
struct MathreelMain {
    static func main() async {
        await Mathreel.main()
    }
}
