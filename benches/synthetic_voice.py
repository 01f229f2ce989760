#!/usr/bin/env python3
"""Do acoustic cues separate synthetic voices from people? (issue 23)

Measures, per recording, cues that are said to give TTS away — pitch variability, energy
variability, pause-length variability, spectral flatness above 4 kHz, speaking-rate
variability — on the real human clips in tests/fixtures (4 speakers, cut into 3-s pieces) and
on Debian's espeak-ng voices reading sales lines in English and Mandarin, and prints each cue's
ROC AUC (human vs synthetic, the direction fixed beforehand: synthetic is more regular, or
flatter). Needs numpy and espeak-ng and ffmpeg.

    target/bench-venv/bin/python benches/synthetic_voice.py
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

SR = 16000
ROOT = os.path.join(os.path.dirname(__file__), "..")
HUMAN = ["jfk.wav", "aishell_BAC009S0724W0121.wav", "paddlespeech_zh.wav", "funasr_zh.wav"]
LINES_EN = [
    "Welcome back everyone, today we are looking at a waterproof hiking jacket.",
    "This cream is the best seller in our shop, only three left, hurry up.",
    "Add it to your cart now, the price goes back up in five minutes.",
    "It is light, it is warm, and it folds into its own pocket.",
]
LINES_ZH = ["欢迎来到直播间，今天给大家带来一款保温杯", "这个价格只有今天有，大家抓紧下单", "库存不多了，喜欢的宝宝赶紧拍"]
VOICES = [("en-us", LINES_EN), ("en-gb", LINES_EN), ("en-us+f3", LINES_EN), ("en-gb-x-rp", LINES_EN), ("cmn", LINES_ZH)]


def load(path):
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "f32le", "-ac", "1",
                          "-ar", str(SR), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.float32)


def frames(x, n=640, hop=160):
    if len(x) < n:
        return np.zeros((0, n), dtype=np.float32)
    idx = np.arange(n)[None, :] + hop * np.arange((len(x) - n) // hop + 1)[:, None]
    return x[idx]


def pitch(fr):
    """F0 (Hz) per 40-ms frame by autocorrelation, 0 when unvoiced."""
    f0 = np.zeros(len(fr))
    lo, hi = SR // 400, SR // 70
    for i, f in enumerate(fr):
        f = f - f.mean()
        e = (f * f).sum()
        if e < 1e-4:
            continue
        ac = np.correlate(f, f, "full")[len(f) - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.45:
            f0[i] = SR / lag
    return f0


def cv(v):
    v = np.asarray(v, dtype=float)
    return float(v.std() / v.mean()) if len(v) > 1 and v.mean() > 0 else 0.0


def cues(x):
    fr = frames(x)
    rms = np.sqrt((fr ** 2).mean(axis=1) + 1e-12)
    loud = rms > max(0.01, 0.1 * np.percentile(rms, 95))
    f0 = pitch(fr)
    voiced = f0 > 0
    semis = 12 * np.log2(f0[voiced] / 100.0) if voiced.any() else np.zeros(1)
    # Pauses: runs of quiet frames of 150 ms or more between loud ones.
    pauses, run = [], 0
    for q in ~loud:
        if q:
            run += 1
        else:
            if run >= 15:
                pauses.append(run)
            run = 0
    spec = np.abs(np.fft.rfft(fr[loud] * np.hanning(fr.shape[1]), axis=1)) ** 2 + 1e-12
    band = spec[:, int(4000 / SR * fr.shape[1]):]
    flat = np.exp(np.log(band).mean(axis=1)) / band.mean(axis=1) if len(band) else np.zeros(1)
    # Syllable rate: energy peaks per second inside loud stretches, per stretch.
    rates, start = [], None
    for i, l in enumerate(np.append(loud, False)):
        if l and start is None:
            start = i
        elif not l and start is not None:
            seg = rms[start:i]
            if len(seg) >= 30:
                peaks = ((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:]) & (seg[1:-1] > 0.5 * seg.max())).sum()
                rates.append(peaks / (len(seg) / 100.0))
            start = None
    return {
        "pitch_sd_semitones": float(semis.std()),
        "pitch_step_sd": float(np.diff(semis).std()) if len(semis) > 2 else 0.0,
        "energy_cv": cv(rms[loud]),
        "pause_cv": cv(pauses) if len(pauses) > 1 else 0.0,
        "hf_flatness": float(np.mean(flat)),
        "rate_cv": cv(rates) if len(rates) > 1 else 0.0,
    }


# Synthetic is expected to be more regular (lower) on these; on hf_flatness, breath and
# mouth noise make people's top band noisier (flatter), so also lower for TTS.
def auc(human, synth):
    """P(a random human scores above a random synthetic voice); ties count half."""
    wins = sum((h > s) + 0.5 * (h == s) for h in human for s in synth)
    return wins / (len(human) * len(synth))


def main():
    items = []
    for name in HUMAN:
        x = load(os.path.join(ROOT, "tests", "fixtures", name))
        for k in range(0, len(x) - 3 * SR + 1, 3 * SR):
            items.append(("human", f"{name}@{k // SR}s", cues(x[k:k + 3 * SR])))
    with tempfile.TemporaryDirectory() as d:
        for voice, lines in VOICES:
            for speed in (150, 175):
                for i, line in enumerate(lines):
                    p = os.path.join(d, f"{voice}-{speed}-{i}.wav")
                    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", p, line], check=True,
                                   capture_output=True)
                    x = load(p)
                    items.append(("synthetic", f"espeak-ng {voice} {speed} #{i}", cues(x[: 3 * SR] if len(x) > 3 * SR else x)))
    human = [c for k, _, c in items if k == "human"]
    synth = [c for k, _, c in items if k == "synthetic"]
    print(f"{len(human)} human pieces (4 speakers), {len(synth)} synthetic (espeak-ng, {len(VOICES)} voices)")
    print("| cue | human median | synthetic median | AUC (human higher) |")
    print("| --- | ---: | ---: | ---: |")
    for cue in human[0]:
        h = [c[cue] for c in human]
        s = [c[cue] for c in synth]
        print(f"| {cue} | {np.median(h):.3f} | {np.median(s):.3f} | {auc(h, s):.2f} |")


if __name__ == "__main__":
    sys.exit(main())
