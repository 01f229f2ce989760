#!/usr/bin/env python3
"""Ingest speed, memory and accuracy: liveproof vs faster-whisper on the same CT2 weights.

Builds two recordings from real clips with references (a 10-minute Mandarin one and a
60-minute mixed one, with silences and music-like tones between utterances), then times
`liveproof ingest` (the whole job: hash, decode, transcribe, seal, index) and faster-whisper
(transcription alone) on each, 2 threads, same beam, same language, and scores both against
the references clip by clip (CER for Mandarin, WER for English, MER for both together), and
prints issue 18's verdict: liveproof's speed against the fastest faster-whisper setting within
1 point of its error rate.

Run through scripts/bench-ingest.sh, which prepares the virtualenv and the model directories.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import wave

RATE = 16000
# No initial prompt on either side: liveproof dropped its Mandarin prompt (docs/decisions.md).
ZH_PROMPT = ""

EN_LINES = [
    "Welcome back everyone, today we are looking at a waterproof hiking jacket.",
    "The outer shell is made of recycled nylon and the seams are fully taped.",
    "If you order in the next ten minutes you also get a free pair of gloves.",
    "Please remember that returns are accepted within seven days of delivery.",
    "This blender has six speeds and a glass jar that holds one and a half liters.",
    "Our team tested the battery for twelve hours of continuous use.",
    "Shipping is free for orders over fifty dollars to most regions.",
    "Let me show you the color options again, we have navy, olive and grey.",
]


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def read_wav(path):
    """Decodes any audio file to 16 kHz mono s16 bytes with ffmpeg."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1",
         "-ar", str(RATE), "-"],
        check=True, capture_output=True).stdout
    return out


def tone(seconds, rng):
    """Music-like noise: a chord with tremolo and a little pink noise (ffmpeg lavfi)."""
    f = rng.choice([196, 220, 247, 262])
    expr = (f"0.08*sin(2*PI*{f}*t)*(0.6+0.4*sin(2*PI*3*t))"
            f"+0.06*sin(2*PI*{f * 5 / 4:.1f}*t)+0.05*sin(2*PI*{f * 3 / 2:.1f}*t)")
    a = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         f"aevalsrc={expr}:s={RATE}:d={seconds}", "-f", "s16le", "-ac", "1", "-"],
        check=True, capture_output=True).stdout
    return a


def write_wav(path, pcm):
    """Writes 16 kHz mono s16 samples to a WAV file; returns its path."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(pcm))
    return path


def silence(seconds):
    return b"\0\0" * int(seconds * RATE)


def clips(corpus, work):
    """Real clips with references: Mandarin from the corpus, English from JFK and espeak-ng."""
    zh, en = [], []
    manifest = os.path.join(corpus, "MANIFEST.tsv")
    if os.path.exists(manifest):
        for line in open(manifest, encoding="utf-8").read().splitlines()[1:]:
            f = line.split("\t")
            path, lang, ref = f[0], f[1], f[4]
            if not ref or not path.endswith(".wav"):
                continue
            item = {"path": os.path.join(corpus, path), "ref": ref, "lang": lang}
            (zh if lang == "zh" else en).append(item)
    else:  # a fresh clone: the clips bundled with the tests
        fx = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
        zh = [{"path": os.path.join(fx, "aishell_BAC009S0724W0121.wav"), "lang": "zh",
               "ref": "广州市房地产中介协会分析"},
              {"path": os.path.join(fx, "paddlespeech_zh.wav"), "lang": "zh",
               "ref": "我认为跑步最重要的就是给我带来了身体健康"}]
        en = [{"path": os.path.join(fx, "jfk.wav"), "lang": "en",
               "ref": "And so my fellow Americans, ask not what your country can do for you, "
                      "ask what you can do for your country."}]
    # Keep one JFK (the corpus has the same speech three times).
    en = en[:1]
    for i, text in enumerate(EN_LINES):
        for voice, speed in [("en-us", 160), ("en-gb", 150)]:
            p = os.path.join(work, f"tts-{i}-{voice}.wav")
            sh("espeak-ng", "-v", voice, "-s", str(speed), "-w", p, text)
            en.append({"path": p, "ref": text, "lang": "en"})
    for c in zh + en:
        c["pcm"] = read_wav(c["path"])
    return zh, en


def build(name, minutes, blocks, work, rng):
    """Writes a WAV of `minutes` from `blocks` (lists of clips taken in turn, one block per
    ~3 minutes), with gaps of silence and music; returns its path and clip placements."""
    pcm = bytearray()
    placed = []
    total = int(minutes * 60 * RATE) * 2
    block_len = int(min(180, minutes * 20) * RATE) * 2
    b = 0
    while len(pcm) < total:
        pool = blocks[b % len(blocks)]
        start_block = len(pcm)
        while len(pcm) - start_block < block_len and len(pcm) < total:
            c = rng.choice(pool)
            t0 = len(pcm) / 2 / RATE
            pcm += c["pcm"]
            placed.append({"start": t0, "end": len(pcm) / 2 / RATE, "lang": c["lang"],
                           "ref": c["ref"]})
            gap = rng.random()
            if gap < 0.3:
                pcm += tone(round(rng.uniform(3, 8), 1), rng)
                pcm += silence(rng.uniform(0.3, 1.0))
            else:
                pcm += silence(rng.uniform(0.5, 4.0))
        b += 1
    path = write_wav(os.path.join(work, f"{name}.wav"), pcm)
    return path, placed


def render(c, rng):
    """The clip said again: other tempo (0.9-1.1), pitch (about +-1 semitone), gain (-6 to
    +3 dB) and room noise (pink, 30-40 dB below), so that no audio repeats exactly, as a
    human host's speech does not."""
    pitch = rng.uniform(0.94, 1.06)
    tempo = rng.uniform(0.9, 1.1)
    gain = rng.uniform(-6, 3)
    noise = 10 ** (rng.uniform(-40, -30) / 20)
    seed = rng.randrange(1, 2**31)
    graph = (f"[0]asetrate={RATE * pitch:.0f},aresample={RATE},atempo={tempo / pitch:.4f},"
             f"volume={gain:.1f}dB[s];anoisesrc=c=pink:a={noise:.5f}:r={RATE}:seed={seed}[n];"
             "[s][n]amix=inputs=2:duration=first:normalize=0")
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", c["path"], "-filter_complex", graph,
         "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
        check=True, capture_output=True).stdout


def build_human(name, minutes, zh, en, work, rng, switch_every=0, bed=False, alternate=False):
    """A recording of human speech with no exact repeats: every utterance re-rendered
    (`render`), 0.5-3 s apart; every `switch_every`-th utterance is a code switch (a Mandarin
    utterance, then an English one 0.4-0.8 s later); with `alternate`, every utterance
    switches language 0.4-0.8 s after the last; with `bed`, a music bed plays under all of it."""
    pcm = bytearray()
    placed = []
    total = int(minutes * 60 * RATE) * 2
    n = 0
    while len(pcm) < total:
        n += 1
        if alternate:
            seq = [rng.choice(zh if n % 2 else en)]
        elif switch_every and n % switch_every == 0:
            seq = [rng.choice(zh), rng.choice(en)]
        else:
            seq = [rng.choice(zh)]
        for k, c in enumerate(seq):
            if k:
                pcm += silence(rng.uniform(0.4, 0.8))
            t0 = len(pcm) / 2 / RATE
            pcm += render(c, rng)
            placed.append({"start": t0, "end": len(pcm) / 2 / RATE, "lang": c["lang"],
                           "ref": c["ref"]})
        pcm += silence(rng.uniform(0.4, 0.8) if alternate else rng.uniform(0.5, 3.0))
    path = write_wav(os.path.join(work, f"{name}.wav"), pcm)
    if bed:
        # A continuous music bed (chords with tremolo, as under a live room) 12 dB under.
        seconds = len(pcm) / 2 / RATE
        music = bytearray()
        while len(music) < len(pcm):
            music += tone(20, rng)
        mpath = write_wav(os.path.join(work, f"{name}-bed.wav"), music[:len(pcm)])
        mixed = os.path.join(work, f"{name}-mixed.wav")
        sh("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", path, "-i", mpath, "-filter_complex",
           f"[1]volume=0.8[m];[0][m]amix=inputs=2:duration=first:normalize=0,atrim=0:{seconds}",
           "-ar", str(RATE), "-ac", "1", mixed)
        os.replace(mixed, path)
    return path, placed


def normalize(text, lang, zhconv):
    text = zhconv(text) if zhconv else text
    if lang == "zh":
        return [c for c in text if c.isalnum()]
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def edits(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def score(placed, segments, zhconv, block=120.0):
    """Aligns hypothesis and reference text per language inside fixed time blocks (so a
    segment that spans several clips, or a clip split over several segments, is scored
    fairly); text in the wrong language counts against the block. Returns
    {lang: [edits, ref_units]}."""
    refs, hyps = {}, {}
    for p in placed:
        k = (int((p["start"] + p["end"]) / 2 // block), p["lang"])
        refs.setdefault(k, []).append(p["ref"])
    for s in segments:
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", s["text"]) else "en"
        k = (int((s["start"] + s["end"]) / 2 // block), lang)
        hyps.setdefault(k, []).append(s["text"])
    out = {"zh": [0, 0], "en": [0, 0]}
    for k in set(refs) | set(hyps):
        lang = k[1]
        ref = normalize(" ".join(refs.get(k, [])), lang, zhconv)
        got = normalize(" ".join(hyps.get(k, [])), lang, zhconv)
        out[lang][0] += edits(ref, got)
        out[lang][1] += len(ref)
    return out


def cer(sc):
    """Mandarin character error rate (None without Mandarin in the reference)."""
    return sc["zh"][0] / sc["zh"][1] if sc["zh"][1] else None


def mer(sc):
    """Mixed error rate, the usual measure for code-switching speech: Mandarin characters and
    English words in one count, so a transcript that drops the English pays for it."""
    units = sc["zh"][1] + sc["en"][1]
    return (sc["zh"][0] + sc["en"][0]) / units if units else 0.0


def percent(rate):
    """A rate as a table cell ("–" when there is nothing to rate)."""
    return "–" if rate is None else f"{100 * rate:.1f}%"


def verdicts(runs, margin=0.01):
    """Issue 18's measure, for each liveproof run: the fastest faster-whisper setting whose
    error rate is at most `margin` above liveproof's, and liveproof's speed relative to it;
    by Mandarin CER, and by MER where the recording has English."""
    out = []
    if all(r[4] is not None for r in runs):
        return out  # liveproof alone (--lp-only): nothing to judge against
    for name, wall, _, sc, t in runs:
        if t is None:
            continue
        measures = [("CER", cer)]
        if any(r[3]["en"][1] for r in runs):
            measures.append(("MER", mer))
        for label, rate in measures:
            mine = rate(sc)
            if mine is None:
                continue
            peers = [(w, n, rate(s)) for n, w, _, s, tt in runs
                     if tt is None and rate(s) is not None and rate(s) <= mine + margin]
            if not peers:
                out.append(f"{name}, by {label} ({100 * mine:.1f}%): no faster-whisper setting "
                           f"within {100 * margin:.0f} point")
                continue
            w, n, e = min(peers)
            out.append(f"{name}, by {label} ({100 * mine:.1f}%): fastest within "
                       f"{100 * margin:.0f} point is {n} ({w:.1f} s, {100 * e:.1f}%): "
                       f"**{w / wall:.2f}×**")
    return out


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (wall s, peak RSS MB, stdout)."""
    t = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "RSS_KB %M"] + cmd, capture_output=True,
                       text=True, env=env)
    wall = time.monotonic() - t
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {r.stderr[-2000:]}")
    rss = int(re.findall(r"RSS_KB (\d+)", r.stderr)[-1]) / 1024
    return wall, rss, r.stdout


def run_liveproof(binary, models, audio, model, lang, beam, flags, work):
    data = tempfile.mkdtemp(dir=work, prefix="lp-")
    env = dict(os.environ, LIVEPROOF_THREADS="2", LIVEPROOF_MODELS=models)
    cmd = [binary, "--data", data, "--json", "ingest", audio, "--model", model, "--lang", lang,
           "--beam", str(beam)] + list(flags)
    wall, rss, out = timed(cmd, env)
    summary = json.loads(out)
    ex = subprocess.run([binary, "--data", data, "--json", "export", summary["session"],
                         "--format", "json"], capture_output=True, text=True, check=True)
    segs = [{"start": s["start_ms"] / 1000, "end": s["end_ms"] / 1000, "text": s["text"]}
            for s in json.loads(ex.stdout)["segments"]]
    return wall, rss, segs, summary.get("timings")


FW_DRIVER = r"""
import json, sys
from faster_whisper import WhisperModel, BatchedInferencePipeline
model_dir, audio, compute, beam, lang, prompt, multi = sys.argv[1:8]
batched = compute.startswith("batched-")
compute = compute.removeprefix("batched-")
m = WhisperModel(model_dir, device="cpu", compute_type=compute, cpu_threads=2, num_workers=1)
opts = dict(beam_size=int(beam), language=None if lang == "auto" else lang,
            initial_prompt=prompt or None, condition_on_previous_text=False,
            multilingual=multi == "1")
if batched:
    segs, info = BatchedInferencePipeline(model=m).transcribe(audio, batch_size=8, **opts)
else:
    segs, info = m.transcribe(audio, **opts)
print(json.dumps([{"start": s.start, "end": s.end, "text": s.text} for s in segs]))
"""


def run_fw(python, model_dir, audio, compute, beam, lang):
    prompt = ZH_PROMPT if lang == "zh" else ""
    cmd = [python, "-c", FW_DRIVER, model_dir, audio, compute, str(beam), lang, prompt,
           "1" if lang == "auto" else "0"]
    wall, rss, out = timed(cmd, dict(os.environ, OMP_NUM_THREADS="2"))
    return wall, rss, json.loads(out.splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--liveproof", required=True)
    ap.add_argument("--models", required=True, help="liveproof models dir")
    ap.add_argument("--ct2", required=True, help="CT2 model dir of the same weights")
    ap.add_argument("--python", required=True, help="python with faster-whisper")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--which", default="zh10,mixed60")
    ap.add_argument("--beams", default="1,5")
    ap.add_argument("--mixed-beams", default="1")
    ap.add_argument("--all-configs", action="store_true")
    ap.add_argument("--run", default="", help="recordings to run (default: all built)")
    ap.add_argument("--fw-only", action="store_true", help="only the faster-whisper runs")
    ap.add_argument("--lp-only", action="store_true", help="only the liveproof runs")
    ap.add_argument("--configs", default="base-q8_0,base-q8_0+norepeats,base-q8_0+novad",
                    help="liveproof configurations, comma-separated: MODEL (the defaults: "
                         "voice-active audio, repeats reused), MODEL+norepeats "
                         "(--transcribe-repeats) or MODEL+novad (--no-vad: whole recording)")
    ap.add_argument("--reps", type=int, default=1,
                    help="run every system this many times per recording, in turn: the median "
                         "wall time and the mean error rate are reported")
    ap.add_argument("--scale", type=float, default=1.0, help="shorter recordings (smoke test)")
    ap.add_argument("--seed", type=int, default=20261122,
                    help="another rendering of the same clips (tempo, pitch, gain, noise, bed)")
    ap.add_argument("--seeds", default="",
                    help="several renderings, comma-separated (overrides --seed): each one's "
                         "tables, then every system's times and error counts pooled over them")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    try:
        sys.path.insert(0, os.path.dirname(args.python) + "/../lib")
        from zhconv import convert  # noqa: F401
        zhconv = lambda s: convert(s, "zh-cn")  # noqa: E731
    except ImportError:
        zhconv = None
    os.makedirs(args.work, exist_ok=True)
    zh, en = clips(args.corpus, args.work)
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    pooled = []
    for k, seed in enumerate(seeds):
        if len(seeds) > 1:
            print(f"# rendering {seed}", flush=True)
        results = run_rendering(args, seed, zh, en, zhconv, long3h=k == 0)
        with open(os.path.join(args.work, f"results-{seed}.json"), "w") as f:
            json.dump(results, f, indent=1)
        if k == 0:
            with open(os.path.join(args.work, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
        print_tables(results)
        pooled.append(results)
    if len(seeds) > 1:
        print(f"# pooled over renderings {args.seeds}: wall s summed, peak RSS the largest, "
              "error counts summed\n")
        print_tables(pool(pooled))


def pool(per_seed):
    """Each (recording, beam, system) over several renderings: wall times and error counts
    summed, peak RSS the largest, timings dropped (kept as a marker of liveproof's runs)."""
    out = {}
    for results in per_seed:
        for r in results:
            if r["recording"] == "long3h":
                continue
            entry = out.setdefault((r["recording"], r["beam"]), {})
            for n, wall, rss, sc, t in r["runs"]:
                w0, r0, s0, _ = entry.get(n, (0.0, 0.0, {"zh": [0, 0], "en": [0, 0]}, None))
                summed = {lang: [s0[lang][0] + sc[lang][0], s0[lang][1] + sc[lang][1]]
                          for lang in ("zh", "en")}
                entry[n] = (w0 + wall, max(r0, rss), summed, {} if t is not None else None)
    return [{"recording": rec, "beam": beam,
             "runs": [(n, *v) for n, v in runs.items()]} for (rec, beam), runs in out.items()]


def repeated(reps):
    """One row per system from several runs of it: the median wall time (faster-whisper's
    own time moves by a fifth between runs of one file, with its sampling fallbacks), the
    largest peak RSS, error counts summed over the runs (so the error rate is the mean) and
    the first run's timings."""
    if len(reps) == 1:
        return reps[0]
    out = []
    for i, (name, _, _, _, timings) in enumerate(reps[0]):
        rows = [runs[i] for runs in reps]
        walls = sorted(r[1] for r in rows)
        median = walls[len(walls) // 2] if len(walls) % 2 else sum(
            walls[len(walls) // 2 - 1:len(walls) // 2 + 1]) / 2
        summed = {lang: [sum(r[3][lang][0] for r in rows), sum(r[3][lang][1] for r in rows)]
                  for lang in ("zh", "en")}
        out.append((name, median, max(r[2] for r in rows), summed, timings))
    return out


def run_rendering(args, seed, zh, en, zhconv, long3h):
    """Builds the recordings of one rendering and runs every system on them."""
    rng = random.Random(seed)
    recordings = {}
    if "zh10" in args.which:
        recordings["zh10"] = build("zh10", 10 * args.scale, [zh], args.work, rng) + ("zh", args.beams)
    if "human10" in args.which:
        recordings["human10"] = build_human("human10", 10 * args.scale, zh, en, args.work, rng,
                                            switch_every=12) + ("zh", args.beams)
    if "music" in args.which:
        recordings["music"] = build_human("music", 3 * args.scale, zh, en, args.work, rng,
                                          bed=True) + ("zh", args.beams)
    if "switch" in args.which:
        recordings["switch"] = build_human("switch", 3 * args.scale, zh, en, args.work, rng,
                                           alternate=True) + ("auto", args.mixed_beams)
    if "mixed60" in args.which:
        recordings["mixed60"] = build("mixed60", 60 * args.scale, [zh, en], args.work, rng) + (
            "auto", args.mixed_beams)
    results = []
    first = True
    for name, (audio, placed, lang, beams) in recordings.items():
        if args.run and name not in args.run.split(","):
            continue
        speech = sum(p["end"] - p["start"] for p in placed)
        print(f"## {name}: {len(placed)} clips, {speech / 60:.1f} min of speech in "
              f"{placed[-1]['end'] / 60:.1f} min", flush=True)
        for beam in [int(b) for b in beams.split(",")]:
            flag_of = {"novad": "--no-vad", "vad": "--vad", "norepeats": "--transcribe-repeats"}
            configs = [(c.split("+")[0], [flag_of[f] for f in c.split("+")[1:]])
                       for c in args.configs.split(",")]
            # With --reps, every system runs that many times, in turn (machine noise spread
            # over all of them); see `repeated`.
            reps = []
            for _ in range(args.reps):
                runs = []
                # Every configuration on the first recording and beam; the default one elsewhere.
                for model, flags in [] if args.fw_only else (
                        configs if first or args.all_configs else configs[:1]):
                    wall, rss, segs, timings = run_liveproof(
                        args.liveproof, args.models, audio, model, lang, beam, flags, args.work)
                    runs.append((f"liveproof ingest {model}{''.join(' ' + f for f in flags)}",
                                 wall, rss, score(placed, segs, zhconv), timings))
                    print(runs[-1][:4], timings, flush=True)
                for compute in [] if args.lp_only else ["float32", "int8", "batched-int8"]:
                    wall, rss, segs = run_fw(args.python, args.ct2, audio, compute, beam, lang)
                    runs.append((f"faster-whisper {compute}", wall, rss,
                                 score(placed, segs, zhconv), None))
                    print(runs[-1][:4], flush=True)
                reps.append(runs)
            results.append({"recording": name, "beam": beam, "runs": repeated(reps)})
            first = False
    if long3h and "long3h" in args.which:
        # Memory on a 3-hour recording: the mixed hour, then two hours of music and pauses.
        audio, placed = build("mixed60b", 60 * args.scale, [zh, en], args.work, rng)
        rest = os.path.join(args.work, "rest.wav")
        with wave.open(rest, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            for _ in range(int(120 * args.scale)):
                w.writeframes(tone(20, rng) + silence(40))
        long = os.path.join(args.work, "long3h.wav")
        sh("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", audio, "-i", rest, "-filter_complex",
           "concat=n=2:v=0:a=1", long)
        wall, rss, segs, timings = run_liveproof(
            args.liveproof, args.models, long, "base-q8_0", "auto", 1, [], args.work)
        sc = score(placed, segs, zhconv)
        print(f"long3h: {wall:.1f} s, peak RSS {rss:.0f} MB, {timings}, {sc}", flush=True)
        results.append({"recording": "long3h", "beam": 1,
                        "runs": [("liveproof ingest base-q8_0", wall, rss, sc, timings)]})
    return results


def print_tables(results):
    """One table per recording and beam, issue 18's verdict, and liveproof's timings."""
    print()
    for r in results:
        fw_best = min((w for n, w, *_ in r["runs"] if n.startswith("faster-whisper")),
                      default=float("nan"))
        print(f"### {r['recording']}, beam {r['beam']}\n")
        print("| system | wall s | × vs fastest faster-whisper | peak RSS MB | CER zh | WER en "
              "| MER | coverage, gaps |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for n, wall, rss, sc, t in r["runs"]:
            wer = sc["en"][0] / sc["en"][1] if sc["en"][1] else None
            cov = f"{t.get('coverage')}, {t.get('gaps')}" if t else "–"
            print(f"| {n} | {wall:.1f} | {fw_best / wall:.2f} | {rss:.0f} | {percent(cer(sc))} "
                  f"| {percent(wer)} | {percent(mer(sc))} | {cov} |")
        print()
        for line in verdicts(r["runs"]):
            print(f"- {line}")
        print()
        for n, wall, _, _, t in r["runs"]:
            if t:
                print(f"- {n}: " + ", ".join(f"{k} {v}" for k, v in t.items()))
        print()


if __name__ == "__main__":
    main()
