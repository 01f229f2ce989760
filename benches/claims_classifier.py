#!/usr/bin/env python3
"""A small statistical claims classifier beside the rules (issue 23): character n-grams
(1-3, words for English), multinomial naive Bayes, one model per category, trained only on
annotated sentences of this repository (no download). It answers one question: does it
generalise to unseen sentences better than the rules did when those sentences were unseen?

    python3 benches/claims_classifier.py --train A.tsv B.tsv --test C.tsv [--rules BIN]
    python3 benches/claims_classifier.py --train A.tsv B.tsv --export data/claims-model.tsv
    python3 benches/claims_classifier.py --train data/claims-*.tsv --loso

`--loso` holds each held-out set out in turn, trains on all the other files, and prints the
pooled micro F1 at several thresholds beside the share of ordinary prose (claims_prose.py's
sample) the model trained on everything flags: how the threshold was chosen.

Prints precision, recall and F1 per category on the test set (standard library only); with
`--rules target/release/liveproof`, also the rules (`claims check`) and the union of both
(a sentence flagged when either flags it), side by side.
"""

import argparse
import json
import math
import re
import subprocess
import unicodedata

CATEGORIES = ["absolute_terms", "health_claims", "fake_authority", "pressure", "after_sales"]


def load(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        text, cats = line.split("\t")
        rows.append((text, set() if cats == "-" else set(cats.split(","))))
    return rows


def features(text):
    t = unicodedata.normalize("NFKC", text).lower()
    out = []
    for run in re.findall(r"[\u4e00-\u9fff]+", t):
        for n in (1, 2, 3):
            out += [run[i:i + n] for i in range(len(run) - n + 1)]
    words = re.findall(r"[a-z']+", t)
    out += words + [a + " " + b for a, b in zip(words, words[1:])]
    return out


class NB:
    def fit(self, docs, labels):
        self.count = {True: {}, False: {}}
        self.total = {True: 0, False: 0}
        self.docs = {True: 0, False: 0}
        for f, y in zip(docs, labels):
            self.docs[y] += 1
            for x in f:
                self.count[y][x] = self.count[y].get(x, 0) + 1
                self.total[y] += 1
        self.seen = set(self.count[True]) | set(self.count[False])
        self.vocab = len(self.seen)
        return self

    def score(self, f):
        s = {}
        for y in (True, False):
            lp = math.log((self.docs[y] + 1) / (sum(self.docs.values()) + 2))
            for x in f:
                if x not in self.seen:
                    continue  # unseen n-grams say nothing, and would favour the smaller class
                lp += math.log((self.count[y].get(x, 0) + 1) / (self.total[y] + self.vocab))
            s[y] = lp
        return s[True] - s[False]


MODEL_VERSION = "claims-model/7 (2026-11-27)"


def export(train, sources, path, threshold):
    """The trained model as per-feature log-likelihood ratios: score = prior + the sum of the
    ratios of the sentence's features (each occurrence), exactly NB.score."""
    docs = [features(t) for t, _ in train]
    models = [NB().fit(docs, [c in cats for _, cats in train]) for c in CATEGORIES]
    vocab = sorted(models[0].seen)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"# {MODEL_VERSION}: naive Bayes over character 1-3-grams (Chinese) and words and\n")
        out.write("# word pairs (English), made by benches/claims_classifier.py --export from\n")
        out.write(f"# {' '.join(sources)} ({len(train)} sentences). CC0.\n")
        out.write("# Lines: version; threshold; prior; then feature and its log-likelihood ratio for\n")
        out.write(f"# each of {', '.join(CATEGORIES)}.\n")
        out.write(f"version\t{MODEL_VERSION}\nthreshold\t{threshold}\n")
        total = sum(models[0].docs.values())
        priors = [math.log((m.docs[True] + 1) / (total + 2)) - math.log((m.docs[False] + 1) / (total + 2))
                  for m in models]
        out.write("prior\t" + "\t".join(f"{p:.4f}" for p in priors) + "\n")
        for x in vocab:
            ratios = []
            for m in models:
                t = math.log((m.count[True].get(x, 0) + 1) / (m.total[True] + m.vocab))
                f = math.log((m.count[False].get(x, 0) + 1) / (m.total[False] + m.vocab))
                ratios.append(t - f)
            if all(abs(r) < 0.0005 for r in ratios):
                continue
            out.write(x + "\t" + "\t".join(f"{r:.3f}" for r in ratios) + "\n")


def rule_flags(binary, texts):
    """The categories `liveproof claims check` flags on each text."""
    out = subprocess.run([binary, "claims", "check", "-", "--json"], input="\n".join(texts) + "\n",
                         capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [{f["category"] for f in r["flags"]} for r in rows]


def prf(guesses, test, c):
    tp = fp = fn = 0
    for guess, (_, cats) in zip(guesses, test):
        g = c in guess
        tp += g and c in cats
        fp += g and c not in cats
        fn += (not g) and c in cats
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return tp + fn, p, r, f1


def loso(paths, thresholds=(0, 1, 2, 3, 4)):
    import claims_prose  # its sample of ordinary prose; imported here to keep the cycle lazy

    data = {p: load(p) for p in paths}
    counts = {t: [0, 0, 0] for t in thresholds}
    for held in [p for p in paths if "heldout" in p]:
        rest = [r for p in paths if p != held for r in data[p]]
        docs = [features(t) for t, _ in rest]
        models = [NB().fit(docs, [c in cats for _, cats in rest]) for c in CATEGORIES]
        for text, cats in data[held]:
            f = features(text)
            for c, m in zip(CATEGORIES, models):
                s = m.score(f)
                for t in thresholds:
                    g, y = s > t, c in cats
                    counts[t][0] += g and y
                    counts[t][1] += g and not y
                    counts[t][2] += (not g) and y
    everything = [r for p in paths for r in data[p]]
    docs = [features(t) for t, _ in everything]
    models = [NB().fit(docs, [c in cats for _, cats in everything]) for c in CATEGORIES]
    prose = claims_prose.sample()
    best = [max(m.score(features(s)) for m in models) for s in prose]
    print("| threshold | held-out sets left out in turn: micro F1 (P, R) | prose flagged |")
    print("| ---: | ---: | ---: |")
    for t in thresholds:
        tp, fp, fn = counts[t]
        p, r = tp / (tp + fp), tp / (tp + fn)
        share = sum(b > t for b in best) / len(best)
        print(f"| {t} | {2 * p * r / (p + r):.3f} ({p:.2f}, {r:.2f}) | {share:.2%} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="+", default=[])
    ap.add_argument("--rules", help="the liveproof binary, to compare with its rules and their union")
    ap.add_argument("--export", help="write the model trained on --train as the TSV liveproof embeds")
    ap.add_argument("--threshold", type=float, default=None,
                    help="log-odds a sentence must exceed to be flagged (default 0; 2 for --export,"
                         " the product's setting)")
    ap.add_argument("--loso", action="store_true",
                    help="leave each held-out set out in turn; F1 and prose flags per threshold")
    a = ap.parse_args()
    train = [r for p in a.train for r in load(p)]
    if a.export:
        return export(train, a.train, a.export, 2.0 if a.threshold is None else a.threshold)
    if a.loso:
        return loso(a.train)
    threshold = a.threshold or 0.0
    test = [r for p in a.test for r in load(p)]
    docs = [features(t) for t, _ in train]
    model = [set() for _ in test]
    for c in CATEGORIES:
        m = NB().fit(docs, [c in cats for _, cats in train])
        for i, (t, _) in enumerate(test):
            if m.score(features(t)) > threshold:
                model[i].add(c)
    print(f"{len(train)} training sentences, {len(test)} test sentences")
    if not a.rules:
        print("| category | positives | precision | recall | F1 |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for c in CATEGORIES:
            n, p, r, f1 = prf(model, test, c)
            print(f"| {c} | {n} | {p:.3f} | {r:.3f} | {f1:.3f} |")
        return
    rules = rule_flags(a.rules, [t for t, _ in test])
    union = [x | y for x, y in zip(rules, model)]
    print("| category | positives | rules F1 (P, R) | classifier F1 (P, R) | union F1 (P, R) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for c in CATEGORIES:
        cells = []
        for g in (rules, model, union):
            n, p, r, f1 = prf(g, test, c)
            cells.append(f"{f1:.3f} ({p:.2f}, {r:.2f})")
        print(f"| {c} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
