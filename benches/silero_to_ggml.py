"""Converts Silero VAD v5.1.2 (the PyPI wheel `silero-vad`, MIT) to whisper.cpp's ggml VAD format.

For the issue-18 comparison of whisper.cpp's own VAD with liveproof's (BENCHMARKS.md). Reads the
TorchScript archive's tensors without torch (its data.pkl names them; the storages are raw
little-endian arrays) and writes the header and tensors whisper.cpp's `whisper_vad_init` reads
(`whisper.cpp/src/whisper.cpp`: magic, model type, version, window and context sizes, the
four encoder layers' channels and kernels, the LSTM and final conv sizes; then each tensor:
dims, name length, type, shape in ggml order, name, data). The 16-kHz branch (`_model`) only.

Usage: python benches/silero_to_ggml.py silero_vad.jit out.bin
"""
import pickle
import struct
import sys
import zipfile

import numpy as np

STORAGE = {"FloatStorage": np.float32, "HalfStorage": np.float16, "LongStorage": np.int64,
           "IntStorage": np.int32, "DoubleStorage": np.float64, "BoolStorage": np.bool_}


class _Obj:
    def __init__(self, *a, **k):
        self.state = None

    def __setstate__(self, st):
        self.state = st


class _Storage:
    def __init__(self, name):
        self.name = name


def _rebuild(storage, offset, size, stride, *_):
    (arr,) = storage
    if not size:
        return arr[offset:offset + 1].reshape(())
    return np.lib.stride_tricks.as_strided(
        arr[offset:], shape=size, strides=[s * arr.itemsize for s in stride]).copy()


def jit_tensors(path):
    """Every tensor of a TorchScript archive, by its dotted attribute path."""
    z = zipfile.ZipFile(path)
    root = z.namelist()[0].split("/")[0]

    class Unpickler(pickle.Unpickler):
        def find_class(self, mod, name):
            if (mod, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return _rebuild
            if mod == "torch" and name.endswith("Storage"):
                return _Storage(name)
            if (mod, name) == ("collections", "OrderedDict"):
                import collections
                return collections.OrderedDict
            if mod.startswith("__torch__") or mod.startswith("torch"):
                return type(name, (_Obj,), {})
            raise pickle.UnpicklingError(f"unexpected {mod}.{name}")

        def persistent_load(self, pid):
            _, stype, key, _loc, _numel = pid
            raw = z.read(f"{root}/data/{key}")
            return (np.frombuffer(raw, dtype=STORAGE[stype.name]),)

    out = {}

    def walk(o, prefix):
        if isinstance(o, np.ndarray):
            out[prefix] = o
        elif isinstance(o, _Obj):
            walk(o.state, prefix)
        elif isinstance(o, dict):
            for k, v in o.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(o, (list, tuple)):
            for i, v in enumerate(o):
                walk(v, f"{prefix}.{i}")

    walk(Unpickler(z.open(f"{root}/data.pkl")).load(), "")
    return out


def main(src, dst):
    t = jit_tensors(src)
    enc = [t[f"_model.encoder.{i}.reparam_conv.weight"] for i in range(4)]
    with open(dst, "wb") as f:
        w = lambda fmt, *v: f.write(struct.pack("<" + fmt, *v))
        w("I", 0x67676D6C)
        name = b"silero-16k"
        w("i", len(name)); f.write(name)
        w("iii", 5, 1, 2)
        w("ii", 512, 64)  # window and context, in samples
        w("i", len(enc))
        for e in enc:  # (out, in, kernel)
            w("iii", e.shape[1], e.shape[0], e.shape[2])
        w("iiii", 128, 128, 128, 1)  # LSTM input and hidden, final conv in and out
        f16 = {"_model.stft.forward_basis_buffer", "_model.decoder.decoder.2.weight"} | {
            f"_model.encoder.{i}.reparam_conv.weight" for i in range(4)}
        for key, arr in t.items():
            if not key.startswith("_model.") or arr.ndim == 0 and arr.size == 0:
                continue
            if key == "_model.decoder.decoder.2.weight":
                arr = arr.reshape(arr.shape[0], arr.shape[1])  # (1, 128)
            half = key in f16
            data = arr.astype(np.float16 if half else np.float32)
            b = key.encode()
            w("iii", data.ndim, len(b), 1 if half else 0)
            for d in reversed(data.shape):
                w("i", d)
            f.write(b)
            f.write(data.tobytes())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
