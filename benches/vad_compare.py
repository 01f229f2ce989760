"""Issue 18: whisper.cpp's own Silero VAD against liveproof's voice detector (earshot), for
speed and coverage, on the benchmark's human-speech renderings (BENCHMARKS.md).

Builds the renderings the ingest benchmark builds (same builders and seeds: human speech,
speech over a music bed, code switching), runs `examples/vad_compare` on each (both detectors
on the whole recording, one thread each) and scores each detector's regions against where the
utterances were placed: the share of the utterances' time inside regions (coverage), the
utterances left with less than half of their time inside regions (missed), and the share of
region time outside every utterance (extra). Utterance extents include the clips' own short
leading and trailing silences, so coverage is a little below 100% for any detector.

Usage (scripts/bench-vad.sh): python benches/vad_compare.py --bin target/release/examples/vad_compare
  --silero ggml-silero-v5.1.2.bin --corpus ../shared/corpus --work target/bench-vad --seeds 1,2,3,4
"""
import argparse
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import ingest_vs_faster_whisper as B  # noqa: E402


def inside(a, b, regions):
    """Seconds of [a, b) inside the regions."""
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in regions)


def score(placed, regions):
    ref = [(p["start"], p["end"]) for p in placed]
    speech = sum(e - s for s, e in ref)
    covered = sum(inside(s, e, regions) for s, e in ref)
    missed = sum(1 for s, e in ref if inside(s, e, regions) < 0.5 * (e - s))
    found = sum(e - s for s, e in regions)
    outside = found - sum(inside(s, e, ref) for s, e in regions)
    return dict(speech=speech, covered=covered, missed=missed, clips=len(ref),
                found=found, outside=outside)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--silero", required=True)
    ap.add_argument("--corpus", default="none")
    ap.add_argument("--work", default="target/bench-vad")
    ap.add_argument("--seeds", default="1,2,3,4")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    zh, en = B.clips(a.corpus, a.work)
    totals = {}
    for seed in [int(s) for s in a.seeds.split(",")]:
        rng = random.Random(seed)
        built = [
            ("human10", B.build_human("human10", 10, zh, en, a.work, rng, switch_every=12)),
            ("music", B.build_human("music", 3, zh, en, a.work, rng, bed=True)),
            ("switch", B.build_human("switch", 3, zh, en, a.work, rng, alternate=True)),
        ]
        for name, (wav, placed) in built:
            out = json.loads(subprocess.run([a.bin, wav, a.silero], check=True,
                                            capture_output=True, text=True).stdout)
            for det in ("earshot", "silero"):
                s = score(placed, out[det]["regions"])
                s["ms"] = out[det]["ms"]
                s["seconds"] = out["seconds"]
                print(f"{name} seed {seed} {det}: {out[det]['ms']:.0f} ms, coverage "
                      f"{100 * s['covered'] / s['speech']:.1f}%, missed {s['missed']}/{s['clips']}, "
                      f"extra {100 * s['outside'] / max(s['found'], 1e-9):.1f}%", flush=True)
                t = totals.setdefault((name, det), {})
                for k, v in s.items():
                    t[k] = t.get(k, 0) + v
    print("\n| recording | detector | time per minute of audio | coverage of speech | "
          "utterances missed | region time outside speech |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for (name, det), t in totals.items():
        print(f"| {name} | {det} | {60 * t['ms'] / t['seconds']:.0f} ms | "
              f"{100 * t['covered'] / t['speech']:.1f}% | {t['missed']} / {t['clips']} | "
              f"{100 * t['outside'] / max(t['found'], 1e-9):.1f}% |")


if __name__ == "__main__":
    main()
