#!/usr/bin/env python3
"""Every module declares what it imports: each target's Swift files may import
only the targets and products its Package.swift entry names (a module reached
through another's dependencies builds, and then breaks when that one changes),
the system's own modules, and nothing of the spool below Shared/System."""
import os
import re
import sys

SYSTEM_MODULES = {"Foundation", "FoundationEssentials", "Glibc", "Musl", "Synchronization", "Dispatch",
                  "Testing", "XCTest", "_Concurrency", "PackageDescription"}


def calls(text, kinds):
    """(kind, argument text) of each `.kind(...)` call, brackets matched."""
    out = []
    for m in re.finditer(r"\.(%s)\(" % "|".join(kinds), text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        out.append((m.group(1), text[m.end():i - 1]))
    return out


def variables(package):
    """Dependencies named once at the top (`let logging = ...product(name: "Logging"...)`)."""
    found = {}
    for m in re.finditer(r"^let (\w+)(?::[^=]*)? = (.*)$", package, re.M):
        found[m.group(1)] = m.group(2)
    resolved = {}
    for name, text in found.items():
        mods = set(re.findall(r'\.product\(name:\s*"([^"]+)"', text))
        mods |= set(re.findall(r'"([^"]+)"', re.sub(r"\.product\([^)]*\)", "", text)))
        resolved[name] = (mods, set(re.findall(r"\b(\w+)\b", re.sub(r'"[^"]*"', "", text))))
    out = {}
    for name, (mods, words) in resolved.items():
        out[name] = mods | set().union(*[resolved[w][0] for w in words if w in resolved and w != name])
    return out


def targets(package):
    named = variables(package)
    found = []
    for kind, args in calls(package, ["target", "executableTarget", "testTarget"]):
        name = re.search(r'name:\s*"([^"]+)"', args)
        path = re.search(r'path:\s*"([^"]+)"', args)
        if not name or not path:
            continue
        deps = set()
        dm = re.search(r"dependencies:(.*?)(?:\bpath:|\bresources:|\bswiftSettings:|$)", args, re.S)
        if dm:
            block = dm.group(1)
            deps |= set(re.findall(r'\.product\(name:\s*"([^"]+)"', block))
            bare = re.sub(r"\.product\([^)]*\)", "", block)
            deps |= set(re.findall(r'"([^"]+)"', bare))
            for word in re.findall(r"\b(\w+)\b", re.sub(r'"[^"]*"', "", bare)):
                deps |= named.get(word, set())
        found.append((name.group(1), path.group(1), deps))
    return found


def imports(path):
    seen = {}
    for root, _, files in os.walk(path):
        for f in files:
            if not f.endswith(".swift"):
                continue
            file = os.path.join(root, f)
            with open(file, encoding="utf-8") as fh:
                in_string = False
                for n, line in enumerate(fh, 1):
                    # Python and shell inside Swift's multi-line strings import nothing of ours.
                    if line.count('"""') % 2:
                        in_string = not in_string
                        continue
                    if in_string:
                        continue
                    m = re.match(r"\s*(?:@\w+\s+)*import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?(\w+)", line)
                    if m:
                        seen.setdefault(m.group(1), f"{file}:{n}")
    return seen


def main(root):
    with open(os.path.join(root, "Package.swift"), encoding="utf-8") as fh:
        package = fh.read()
    problems = []
    all_targets = targets(package)
    if not all_targets:
        problems.append("Package.swift: no target found (has its layout changed?)")
    for name, path, deps in all_targets:
        for module, where in sorted(imports(os.path.join(root, path)).items()):
            if module in SYSTEM_MODULES or module == name or module in deps:
                continue
            problems.append(f"{where}: {name} imports {module} but does not list it in its dependencies in Package.swift")
    for name, path, deps in all_targets:
        if name == "MathreelSystem" and "MathreelSpool" in deps:
            problems.append("Package.swift: MathreelSystem lies below the spool and must not depend on it")
    for p in problems:
        print(p)
    if problems:
        print(f"check_imports: {len(problems)} undeclared imports")
        return 1
    print(f"check_imports: {len(all_targets)} targets declare every module they import")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
