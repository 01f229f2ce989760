"""Two or more liveproof builds over the same renderings, alternating run by run: wall time,
encoder passes and the error rates (CER, MER) of each, then each build's totals. For changes
that move the text (scripts/bench-ab.sh is for changes that must not).

  target/bench-venv/bin/python benches/ab_renderings.py render 1,2,3,4 music,switch
  target/bench-venv/bin/python benches/ab_renderings.py run 1,2,3,4 music,switch 2 BUILD_A BUILD_B

`render` builds the renderings `bench-ingest.sh --which music,switch --seeds 1,2,3,4` uses (the
same clips, seeds and order) into target/bench-ingest/ab/; `run` runs every build REPS times
on each (time summed, error counts of the first run). Needs scripts/bench-ingest.sh run once
(the venv and the corpus clips)."""
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_vs_faster_whisper as b  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench-ingest")
OUT = os.path.join(WORK, "ab")


def main():
    cmd, seeds, recs = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3].split(",")
    os.makedirs(OUT, exist_ok=True)
    try:
        from zhconv import convert
        zhconv = lambda s: convert(s, "zh-cn")  # noqa: E731
    except ImportError:
        zhconv = None
    if cmd == "render":
        corpus = os.path.join(ROOT, "..", "shared", "corpus")
        zh, en = b.clips(corpus if os.path.isdir(corpus) else "none", WORK)
        for seed in seeds:
            rng = random.Random(seed)
            for name in recs:
                kw = {"music": dict(bed=True), "switch": dict(alternate=True),
                      "human10": dict(switch_every=12)}[name]
                path, placed = b.build_human(name, 10 if name == "human10" else 3, zh, en, WORK,
                                             rng, **kw)
                shutil.copy(path, f"{OUT}/{name}-s{seed}.wav")
                json.dump(placed, open(f"{OUT}/{name}-s{seed}.json", "w"))
                print("rendered", name, seed, flush=True)
        return
    reps, builds = int(sys.argv[4]), sys.argv[5:]
    total = {}
    for seed in seeds:
        for name in recs:
            placed = json.load(open(f"{OUT}/{name}-s{seed}.json"))
            lang = "auto" if name == "switch" else "zh"
            for r in range(reps):
                for build in builds:
                    wall, rss, segs, t = b.run_liveproof(
                        build, os.path.join(ROOT, "models"), f"{OUT}/{name}-s{seed}.wav", "base",
                        lang, 1, [], WORK)
                    sc = b.score(placed, segs, zhconv)
                    w0, s0 = total.get((name, build), (0.0, {"zh": [0, 0], "en": [0, 0]}))
                    if r == 0:
                        s0 = {k: [s0[k][0] + sc[k][0], s0[k][1] + sc[k][1]] for k in s0}
                    total[(name, build)] = (w0 + wall, s0)
                    print(f"{name} s{seed} r{r} {build}: {wall:.2f} s, RSS {rss:.0f} MB, "
                          f"CER {b.percent(b.cer(sc))}, MER {b.percent(b.mer(sc))}, "
                          f"passes {t.get('encoder_passes')}", flush=True)
    for (name, build), (w, s) in sorted(total.items()):
        print(f"total {name} {build}: {w / reps:.2f} s, CER {b.percent(b.cer(s))}, "
              f"MER {b.percent(b.mer(s))}")


if __name__ == "__main__":
    main()
