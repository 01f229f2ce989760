#!/usr/bin/env python3
"""What faster-whisper computes on one recording: its encoder passes and decoding calls, and
the wall time of each, for one setting (the peer's side of issue 18's floor analysis, to set
beside `liveproof ingest --json`'s `encoder_passes`, `encoder_ms`, `decoder_ms`).

Usage (the benchmark's virtualenv and CT2 weights, made by scripts/bench-ingest.sh):
  OMP_NUM_THREADS=2 target/bench-venv/bin/python benches/fw_work.py \
      target/bench-ingest/ct2-base RECORDING.wav zh|auto [float32|int8|batched-int8] [THREADS]

Prints one JSON object: `encoder_calls`, `encoded_windows` (a batched call encodes several),
`encoder_s`, `decode_calls`, `decode_s`, `wall_s` (transcription alone, model loaded).
"""

import json
import sys
import time

from faster_whisper import BatchedInferencePipeline, WhisperModel


class Counted:
    """The CT2 model with its `encode` and `generate` timed and counted."""

    def __init__(self, inner, tally):
        self._inner = inner
        self._tally = tally

    def encode(self, features, *args, **kwargs):
        start = time.perf_counter()
        out = self._inner.encode(features, *args, **kwargs)
        self._tally["encoder_calls"] += 1
        self._tally["encoded_windows"] += features.shape[0] if hasattr(features, "shape") else 1
        self._tally["encoder_s"] += time.perf_counter() - start
        return out

    def generate(self, *args, **kwargs):
        start = time.perf_counter()
        out = self._inner.generate(*args, **kwargs)
        self._tally["decode_calls"] += 1
        self._tally["decode_s"] += time.perf_counter() - start
        return out

    def __getattr__(self, name):
        return getattr(self._inner, name)


def main():
    model_dir, audio, lang = sys.argv[1:4]
    setting = sys.argv[4] if len(sys.argv) > 4 else "float32"
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    batched = setting.startswith("batched-")
    model = WhisperModel(model_dir, device="cpu", compute_type=setting.removeprefix("batched-"),
                         cpu_threads=threads, num_workers=1)
    tally = dict(encoder_calls=0, encoded_windows=0, encoder_s=0.0, decode_calls=0,
                 decode_s=0.0)
    model.model = Counted(model.model, tally)
    # The benchmark's own options (benches/ingest_vs_faster_whisper.py, FW_DRIVER).
    opts = dict(beam_size=1, language=None if lang == "auto" else lang,
                condition_on_previous_text=False, multilingual=lang == "auto")
    start = time.perf_counter()
    if batched:
        segments, _ = BatchedInferencePipeline(model=model).transcribe(audio, batch_size=8,
                                                                       **opts)
    else:
        segments, _ = model.transcribe(audio, **opts)
    segments = list(segments)
    tally["wall_s"] = time.perf_counter() - start
    tally["segments"] = len(segments)
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v
                      for k, v in dict(setting=setting, threads=threads, **tally).items()}))


if __name__ == "__main__":
    main()
