# mathreel's speech, inside the sandbox (no network): reads one JSON request on stdin,
# speaks each sentence with one engine, writes sentence i's WAV (16-bit mono PCM) into
# descriptor 3 + i, and prints one JSON line with each sentence's duration. Silence
# before and after the speech is cut so that a sentence's audio starts with its first
# sound: a caption placed at the start of the audio is placed at the start of the voice.
#
#   request  {"engine": "piper"|"espeak", "voice": V, "sentences": [S, ...], "rate": 1.0}
#   reply    {"ok": true, "engine": E, "voice": V, "sample_rate": R, "durations": [s, ...]}
#            {"ok": false, "error": "...", "message": "..."}
# piper's V is a model name its installed voice packages ship (en_US-joe-medium);
# espeak's V is an espeak-ng voice (en-us, es, fr, de). Embedded in the daemons.
import io, json, os, subprocess, sys, wave

THRESHOLD = 0.02   # of full scale: quieter than this is silence
KEEP_S = 0.01      # left before the first and after the last sound
MAX_CHARS = 600    # a sentence longer than this is refused (the plan keeps them under 300)


def trimmed(samples, rate):
    import numpy as np
    a = np.frombuffer(samples, dtype="<i2")
    loud = np.flatnonzero(np.abs(a.astype(np.int32)) > THRESHOLD * 32767)
    if loud.size == 0:
        return a[:0].tobytes()
    keep = int(KEEP_S * rate)
    return a[max(0, loud[0] - keep):min(a.size, loud[-1] + keep + 1)].tobytes()


def piper_voices():
    """{model name: (model, config)} of the installed *_piper_voice packages."""
    import importlib
    import pkgutil
    found = {}
    for mod in pkgutil.iter_modules():
        if not mod.name.endswith("_piper_voice"):
            continue
        pkg = importlib.import_module(mod.name)
        model = str(pkg.model_path())
        found[os.path.basename(model)[:-len(".onnx")]] = (model, str(pkg.config_path()))
    return found


def speak_piper(voice, sentences, rate):
    from piper import PiperVoice, SynthesisConfig
    voices = piper_voices()
    if voice not in voices:
        raise LookupError("no Piper voice %r is installed (installed: %s)" % (voice, ", ".join(sorted(voices)) or "none"))
    model, config = voices[voice]
    v = PiperVoice.load(model, config_path=config)
    sr = v.config.sample_rate
    syn = SynthesisConfig(length_scale=1.0 / max(0.5, min(2.0, rate)))
    out = []
    for s in sentences:
        pcm = b"".join(chunk.audio_int16_bytes for chunk in v.synthesize(s, syn_config=syn))
        out.append(pcm)
    return sr, out


def espeak_voices():
    """The names espeak-ng knows a voice by: its language, its name, its file (lowercased)."""
    r = subprocess.run(["/usr/bin/espeak-ng", "--voices"], capture_output=True, text=True, timeout=30)
    names = set()
    for line in r.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names.update(c.lower() for c in (cols[1], cols[3], cols[4], cols[4].rsplit("/", 1)[-1]))
    return names


def speak_espeak(voice, sentences, rate):
    # espeak-ng speaks an unknown voice in its default one, with no error: refuse it here.
    if voice.lower() not in espeak_voices():
        raise LookupError("no espeak-ng voice %r is installed (`espeak-ng --voices` lists them)" % voice)
    out, sr = [], 22050
    for s in sentences:
        r = subprocess.run(["/usr/bin/espeak-ng", "-v", voice, "-s", str(int(165 * rate)), "--stdout", "--", s],
                           capture_output=True, timeout=60)
        if r.returncode != 0 or not r.stdout.startswith(b"RIFF"):
            raise RuntimeError("espeak-ng failed: " + r.stderr.decode("utf-8", "replace")[-300:])
        # espeak-ng's stdout WAV has no length (it is a stream): read the header, take the rest.
        with wave.open(io.BytesIO(fixed_header(r.stdout))) as w:
            sr = w.getframerate()
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise RuntimeError("espeak-ng spoke %d channels of %d bytes" % (w.getnchannels(), w.getsampwidth()))
            out.append(w.readframes(w.getnframes()))
    return sr, out


def fixed_header(data):
    """A streamed WAV's RIFF and data sizes (0xFFFFFFFF or 0) set from the bytes there are."""
    b = bytearray(data)
    b[4:8] = (len(b) - 8).to_bytes(4, "little")
    at = b.find(b"data", 12)
    if at >= 0:
        b[at + 4:at + 8] = (len(b) - at - 8).to_bytes(4, "little")
    return bytes(b)


def main():
    req = json.loads(sys.stdin.readline() or "{}")
    sentences = req.get("sentences")
    if not isinstance(sentences, list) or not all(isinstance(s, str) and s.strip() for s in sentences):
        return {"ok": False, "error": "bad_request", "message": "sentences must be a list of non-empty strings"}
    if any(len(s) > MAX_CHARS for s in sentences):
        return {"ok": False, "error": "bad_request", "message": "a sentence is longer than %d characters" % MAX_CHARS}
    engine, voice = req.get("engine"), str(req.get("voice") or "")
    rate = float(req.get("rate") or 1.0)
    try:
        if engine == "piper":
            sr, spoken = speak_piper(voice, sentences, rate)
        elif engine == "espeak":
            sr, spoken = speak_espeak(voice, sentences, rate)
        else:
            return {"ok": False, "error": "bad_request", "message": "no engine %r" % engine}
    except LookupError as e:
        return {"ok": False, "error": "no_voice", "message": str(e)}
    durations = []
    for i, pcm in enumerate(spoken):
        pcm = trimmed(pcm, sr)
        with os.fdopen(3 + i, "wb", closefd=False) as f, wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(pcm)
        durations.append(round(len(pcm) / 2 / sr, 4))
    if any(d == 0 for d in durations):
        return {"ok": False, "error": "silent", "message": "the engine spoke nothing for a sentence"}
    return {"ok": True, "engine": engine, "voice": voice, "sample_rate": sr, "durations": durations}


if __name__ == "__main__":
    try:
        reply = main()
    except Exception as e:  # noqa: every failure is a reply, so the daemon can fail over
        reply = {"ok": False, "error": type(e).__name__, "message": str(e)[:500]}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
