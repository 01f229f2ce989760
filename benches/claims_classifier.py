#!/usr/bin/env python3
"""A small statistical claims classifier beside the rules (issue 23): character n-grams
(1-3, words for English), multinomial naive Bayes, one model per category, trained only on
annotated sentences of this repository (no download). It answers one question: does it
generalise to unseen sentences better than the rules did when those sentences were unseen?

    python3 benches/claims_classifier.py --train A.tsv B.tsv --test C.tsv

Prints precision, recall and F1 per category on the test set (standard library only).
"""

import argparse
import math
import re
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="+", required=True)
    a = ap.parse_args()
    train = [r for p in a.train for r in load(p)]
    test = [r for p in a.test for r in load(p)]
    docs = [features(t) for t, _ in train]
    print(f"{len(train)} training sentences, {len(test)} test sentences")
    print("| category | positives | precision | recall | F1 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for c in CATEGORIES:
        m = NB().fit(docs, [c in cats for _, cats in train])
        tp = fp = fn = 0
        for t, cats in test:
            guess = m.score(features(t)) > 0
            tp += guess and c in cats
            fp += guess and c not in cats
            fn += (not guess) and c in cats
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"| {c} | {tp + fn} | {p:.3f} | {r:.3f} | {f1:.3f} |")


if __name__ == "__main__":
    main()
