#!/usr/bin/env python3
"""How often ordinary prose gets a claims flag (issue 23): sentences that make no sales claim,
taken from this machine's Debian documentation (English READMEs) and translations (Chinese
strings in /usr/share/**/*.txt), run through `liveproof claims check`, and optionally through
the n-gram classifier alone at a threshold.

    python3 benches/claims_prose.py --liveproof target/release/liveproof
    python3 benches/claims_prose.py --liveproof target/release/liveproof --threshold 0 --train data/claims-*.tsv

The sample is seeded (the same files give the same sentences); BENCHMARKS.md quotes its size.
"""

import argparse
import glob
import json
import random
import re
import subprocess

import claims_classifier as cc


def sample():
    en = []
    for f in sorted(glob.glob("/usr/share/doc/*/README*"))[:400]:
        try:
            txt = open(f, encoding="utf-8", errors="ignore").read()
        except OSError:
            continue
        for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", txt)):
            if 40 < len(s) < 200 and re.match(r"^[A-Z][a-z ,']+", s):
                en.append(s)
    random.seed(1)
    random.shuffle(en)
    zh = []
    for f in sorted(glob.glob("/usr/share/**/*.txt", recursive=True))[:3000]:
        try:
            zh += re.findall(r"[\u4e00-\u9fff，、]{8,40}", open(f, encoding="utf-8", errors="ignore").read())
        except OSError:
            continue
    return en[:1000] + zh[:1000]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--liveproof", required=True)
    ap.add_argument("--threshold", type=float, help="also score the classifier alone at this log-odds")
    ap.add_argument("--train", nargs="*", default=[])
    a = ap.parse_args()
    prose = sample()
    out = subprocess.run([a.liveproof, "claims", "check", "-", "--json"], input="\n".join(prose) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    flagged = [json.loads(o) for o in out if json.loads(o)["flags"]]
    by_model = sum(1 for o in flagged for f in o["flags"] if (f.get("review_reason") or "").startswith("no rule"))
    print(f"{len(prose)} prose sentences; {len(flagged)} flagged by claims check "
          f"({len(flagged) / len(prose):.2%}), {by_model} flag(s) from the model")
    for o in flagged:
        print("  ", [(f["category"], f["words"]) for f in o["flags"]], o["text"][:80])
    if a.threshold is not None:
        train = [r for p in a.train for r in cc.load(p)]
        docs = [cc.features(t) for t, _ in train]
        models = [cc.NB().fit(docs, [c in cats for _, cats in train]) for c in cc.CATEGORIES]
        n = sum(any(m.score(cc.features(s)) > a.threshold for m in models) for s in prose)
        print(f"classifier alone at log-odds {a.threshold}: {n} flagged ({n / len(prose):.2%})")


if __name__ == "__main__":
    main()
