# mathreel's index of the installed Manim's own documentation, for the prompt's
# retrieval: every public class and function (and the methods scenes use most)
# with its signature and docstring, examples included, in an SQLite FTS5 table.
# Usage: python -I indexer.py <database path>. Written to a temporary name, then
# renamed, so a reader never sees half an index. Nothing it reads is executed.
import importlib.util
import inspect
import os
import sqlite3
import sys

out = sys.argv[1]
spec = importlib.util.find_spec("manim")
stamp = "%s@%s" % (spec.origin, os.stat(spec.origin).st_mtime_ns)

import manim  # noqa: E402  (only its names and docstrings are read)

rows = []


def add(name, obj):
    doc = inspect.getdoc(obj) or ""
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        sig = ""
    if not doc and not sig:
        return
    # Long docstrings are mostly parameter lists; the start and the examples matter.
    if len(doc) > 4000:
        doc = doc[:4000]
    rows.append((name, "%s%s\n%s" % (name, sig, doc)))


for name in sorted(dir(manim)):
    if name.startswith("_"):
        continue
    obj = getattr(manim, name, None)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        add(name, obj)
for cls in ("Axes", "NumberPlane", "CoordinateSystem", "Mobject", "VMobject", "Scene", "ThreeDScene", "MathTex", "Text", "Matrix"):
    owner = getattr(manim, cls, None)
    if owner is None:
        continue
    for m in sorted(dir(owner)):
        if m.startswith("_"):
            continue
        member = getattr(owner, m, None)
        if inspect.isfunction(member) and member.__qualname__.split(".")[0] == cls:
            add("%s.%s" % (cls, m), member)

tmp = "%s.%d.tmp" % (out, os.getpid())
db = sqlite3.connect(tmp)
db.execute("CREATE VIRTUAL TABLE docs USING fts5(name, text, tokenize='porter unicode61')")
db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
db.executemany("INSERT INTO docs(name, text) VALUES (?, ?)", rows)
db.executemany("INSERT INTO meta VALUES (?, ?)", [("stamp", stamp), ("version", manim.__version__), ("rows", str(len(rows)))])
db.commit()
db.close()
os.replace(tmp, out)
print('{"ok": true, "rows": %d, "version": "%s"}' % (len(rows), manim.__version__))
