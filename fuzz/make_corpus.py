#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into fuzz/corpus/<target>/.

    fuzz/make_corpus.py [FUZZ_CKPT_BINARY]

Seeds are small and each names the case it covers. With the path of a built fuzz_ckpt
(HC_FUZZ_BUILD=/tmp/fb tools/fuzz 0 fuzz_ckpt, then /tmp/fb/fuzz_ckpt), the structured
fuzz_ckpt seeds are also run once with HC_FUZZ_SAVE so that the HDF5 files they build
(real hyperclip checkpoints, metrics and weights files, whole or damaged) become raw
seeds too. Only standard Python; run from anywhere.
"""
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# ---- fuzz_idx: IDX image and label files ----
def idx_images(n, rows, cols, magic=0x803, pixels=None):
    body = pixels if pixels is not None else bytes((i * 37) & 0xFF for i in range(n * rows * cols))
    return struct.pack(">IIII", magic, n, rows, cols) + body


def idx_labels(n, magic=0x801, labels=None):
    body = labels if labels is not None else bytes(i % 10 for i in range(n))
    return struct.pack(">II", magic, n) + body


put("fuzz_idx", "images-3x2x2", idx_images(3, 2, 2))
put("fuzz_idx", "images-3x2x2.gz", gz(idx_images(3, 2, 2)))
put("fuzz_idx", "labels-5", idx_labels(5))
put("fuzz_idx", "labels-5.gz", gz(idx_labels(5)))
put("fuzz_idx", "labels-out-of-range", idx_labels(3, labels=b"\x01\x0a\x02"))
put("fuzz_idx", "images-bad-magic", idx_images(1, 1, 1, magic=0x802))
put("fuzz_idx", "images-truncated-header", idx_images(1, 2, 2)[:10])
put("fuzz_idx", "images-huge-count-tiny-data", idx_images(100000000, 28, 28, pixels=b"\0" * 16))
put("fuzz_idx", "images-absurd-size", idx_images(1, 65536, 65536, pixels=b""))
put("fuzz_idx", "images-zero-rows", idx_images(1, 0, 4, pixels=b""))
put("fuzz_idx", "images-trailing-bytes", idx_images(1, 2, 2) + b"extra")
put("fuzz_idx", "images-gz-cut", gz(idx_images(4, 4, 4))[:-6])
put("fuzz_idx", "labels-gz-concatenated", gz(idx_labels(2)) + gz(b"\x03"))

# ---- fuzz_cifar: records of 1 label byte + 3072 pixels ----
def record(label, seed):
    return bytes([label]) + bytes(((i * 31 + seed) & 0xFF) for i in range(3072))


put("fuzz_cifar", "one-record", record(3, 1))
put("fuzz_cifar", "two-records.gz", gz(record(0, 2) + record(9, 3)))
put("fuzz_cifar", "bad-label", record(10, 4))
put("fuzz_cifar", "truncated-record", record(1, 5)[:2000])
put("fuzz_cifar", "empty", b"")
put("fuzz_cifar", "gz-cut", gz(record(2, 6) * 3)[:-5])

# ---- fuzz_stack: the --stack grammar ----
stacks = {
    "default": "adam / sgd(alpha=1e-3, clip=on)",
    "momentum": "sgd(alpha=0.05, mu=0.9) / sgd(alpha=1e-4, mu=0.5)",
    "tower": "rmsprop(alpha=1e-3, gamma=0.9) / sgd / sgd(alpha=1e-6) / sgd(alpha=1e-9)",
    "global-clip": "adagrad(alpha=0.05) / sgd(alpha=0.1, clip=on, clip_scope=global)",
    "case-and-space": "  ADAM( Beta1 = 0.5 ,BETA2=0.99 )/SGD(Clip=ON)  ",
    "adam-over-adam": "adam / adam",
    "unknown-key": "adam(lr=1e-3)",
    "unclosed": "adam / sgd(alpha=1e-3",
    "huge-alpha": "sgd / sgd(alpha=1e300)",
    "long-number": "sgd(mu=0.99999999999999988897769753748434595763683319091796875)",
    "denormal": "adam(beta1=4.9e-324)",
    "hex-float": "sgd(alpha=0x1p-3)",
    "inf": "sgd(alpha=inf)",
    "empty-parens": "sgd()",
    "duplicate-key": "sgd(alpha=1, alpha=2)",
    "empty-level": "adam //sgd",
    "many-levels": " / ".join(["sgd"] * 40),
    "mixed-tower": "rmsprop / adagrad(alpha=1e-4) / adam / sgd(alpha=1e-4, clip=on)",
    "variants": "adam_baydin(beta1=0.8) / rmsprop_alpha / sgd(per_tensor=on, clip=on)",
    "per-tensor-momentum": "sgd(per_tensor=on, mu=0.5)",
    "clip-on-adam": "sgd / adam(clip=on)",
}
for name, text in stacks.items():
    put("fuzz_stack", name, text)

# ---- fuzz_cli: argument words separated by NUL ----
clis = {
    "train-typical": ["--data", "/tmp/d", "--stack", "adam / sgd(alpha=1e-3, clip=on)",
                      "--epochs", "5", "--batch", "256", "--seed", "1", "--metrics", "m.h5"],
    "equals-form": ["--epochs=3", "--batch=32", "--stack=sgd", "--progress=never"],
    "checkpoints": ["--checkpoint", "c.h5", "--checkpoint-every", "10", "--resume-if-exists", "c.h5"],
    "both-resumes": ["--resume", "a.h5", "--resume-if-exists", "a.h5"],
    "every-without-file": ["--checkpoint-every", "5"],
    "flags": ["--no-shuffle", "--quiet", "--progress", "always", "--threads", "4", "--help"],
    "limits": ["--max-steps", "9223372036854775807", "--seed", "0", "--batch", "16777216"],
    "out-of-range": ["--epochs", "0", "--batch", "-5", "--threads", "1025"],
    "garbage-number": ["--epochs", "3x", "--seed", "99999999999999999999"],
    "twice": ["--seed", "1", "--seed", "2"],
    "unknown": ["--epoch", "3", "extra", "-x", "--"],
    "missing-value": ["--stack"],
    "flag-with-value": ["--no-shuffle=yes"],
    "empty-value": ["--data", ""],
    "newline-in-word": ["--bogus\nsecond line\x1b[31m"],
    "eval": ["--checkpoint", "c.h5", "--data", "d", "--dataset", "mnist", "--threads", "2"],
    "new-options": ["--model", "cnn", "--dataset", "cifar10", "--normalize", "train-stats"],
}
for name, words in clis.items():
    put("fuzz_cli", name, "\0".join(words))

# ---- fuzz_ckpt: structured programs (see fuzz_ckpt.c for the encoding) ----
# base: 0 empty file, 1 checkpoint, 2 metrics file, 3 weights file; then the op count and
# the ops: 0 dataset(name, type, rank, chunked, dims..., [type bytes], write?, values...),
# 1 attribute(holder, name, type, rank, d0, d1, [type bytes], values...),
# 2 group/link(name, target, how), 3 delete(name).
OBJ = {n: i for i, n in enumerate([
    "/model", "/model/fc1", "/model/fc2", "/model/fc1/weight", "/model/fc1/bias",
    "/model/fc2/weight", "/model/fc2/bias", "/model/conv1/weight", "/state",
    "/state/level1", "/state/level2", "/state/level3", "/state/level1/raw",
    "/state/level1/clip_avg", "/state/level1/state0", "/state/level1/state1",
    "/state/level1/D0", "/state/level1/D1", "/state/level1/D2", "/state/level2/raw",
    "/state/level2/clip_avg", "/state/level2/buf", "/state/level2/D_alpha",
    "/state/level2/D_mu", "/steps", "/steps/loss", "/steps/level1/alpha/value",
    "/steps/level1/alpha/grad", "/steps/level1/mu/clipped", "/steps/level2/alpha/threshold",
    "/steps/level1", "/epochs", "/epochs/train_loss", "/epochs/test_loss",
    "/epochs/test_error", "/epochs/seconds", "/epochs/samples_per_second", "/other"])}
HOLD = {n: i for i, n in enumerate(["/", "/state", "/state/level1", "/state/level2", "/model",
                                    "/steps", "/epochs", "/model/fc1/weight"])}
ATTR = {n: i for i, n in enumerate([
    "format", "format_version", "stack", "model", "dataset", "normalization", "global_batch",
    "n_train", "nranks", "version", "seed", "shuffle", "step", "epoch", "pos",
    "epoch_loss_sum", "epoch_samples", "steps", "clip_steps", "updates", "other"])}
F32, F64, F32BE, F16, I8, I32, U64, STR, VSTR, COMPOUND, ARRAY, ENUM, OPAQUE = range(13)
DIM = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 10: 5, 16: 6, 64: 7, 128: 8, 1930: 9, 512: 10,
       2**31 - 1: 11, 2**31: 12, 2**32: 13, 2**40: 14, 2**62: 15}
INT = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 10: 5, 32: 6, 64: 7, -1: 8, -2: 9, 2**31 - 1: 10,
       2**31: 11, 2**63 - 1: 12, -2**63: 13}
STRS = {"hyperclip-checkpoint": 0, "canonical-stack": 1, "mlp": 2, "cnn": 3, "mnist": 4,
        "multi-line": 11, "not-utf8": 12, "long": 13}


def dataset(name, typ, dims, chunked=0, type_bytes=(), write=0, values=b""):
    b = [0, OBJ[name], typ, len(dims), chunked]
    for d in dims:
        b.append(DIM[d])
    return bytes(b) + bytes(type_bytes) + bytes([write]) + values


def attribute(holder, name, typ, rank=0, d0=0, d1=0, type_bytes=(), values=b""):
    return bytes([1, HOLD[holder], ATTR[name], typ, rank, d0, d1]) + bytes(type_bytes) + values


def link(name, target, how):  # how: 0 group, 1 soft link, 2 hard link, 3 external link
    return bytes([2, OBJ[name], OBJ[target], how])


def delete(name):
    return bytes([3, OBJ[name]])


def program(base, *ops):
    return bytes([base, len(ops)]) + b"".join(ops)


nan_be = struct.pack(">f", float("nan")) * 4
ckpt_seeds = {
    "ckpt-whole": program(1),
    "metrics-whole": program(2),
    "weights-whole": program(3),
    "empty-file": program(0),
    "ckpt-fc1-weight-rank3": program(1, dataset("/model/fc1/weight", F32, [128, 4, 1], write=3)),
    "ckpt-fc1-weight-huge-dims": program(1, dataset("/model/fc1/weight", F32, [2**40, 4], chunked=1)),
    "ckpt-fc1-weight-2^62": program(1, dataset("/model/fc1/weight", F64, [2**62], chunked=1)),
    "ckpt-fc1-weight-int32": program(1, dataset("/model/fc1/weight", I32, [128, 4], write=3)),
    "ckpt-fc1-weight-string": program(1, dataset("/model/fc1/weight", STR, [128, 4], type_bytes=(2, 0), write=3)),
    "ckpt-fc1-weight-float16": program(1, dataset("/model/fc1/weight", F16, [128, 4], write=3)),
    "ckpt-fc2-bias-nan-big-endian": program(1, dataset("/model/fc2/bias", F32BE, [10], write=3, values=nan_be)),
    "ckpt-fc2-bias-compound": program(1, dataset("/model/fc2/bias", COMPOUND, [10], write=3)),
    "ckpt-no-level1-raw": program(1, delete("/state/level1/raw")),
    "ckpt-level1-raw-array-type": program(1, dataset("/state/level1/raw", ARRAY, [2], type_bytes=(2,), write=3)),
    "ckpt-level2-buf-too-long": program(1, dataset("/state/level2/buf", F64, [2**31], chunked=1)),
    "ckpt-no-state": program(1, delete("/state")),
    "ckpt-state-is-dataset": program(1, delete("/state"), dataset("/state", F64, [3], write=3)),
    "ckpt-format-int": program(1, attribute("/", "format", I32, values=bytes([1]))),
    "ckpt-format-vlen": program(1, attribute("/", "format", VSTR, values=bytes([0]))),
    "ckpt-format-array": program(1, attribute("/", "format", STR, rank=1, d0=3, type_bytes=(3, 0), values=bytes([0, 0, 0]))),
    "ckpt-stack-64k-string": program(1, attribute("/", "stack", STR, type_bytes=(8, 0), values=bytes([1]))),
    "ckpt-stack-multiline": program(1, attribute("/", "stack", STR, type_bytes=(5, 1), values=bytes([11]))),
    "ckpt-step-huge": program(1, attribute("/state", "step", U64, values=bytes([12]))),
    "ckpt-pos-negative": program(1, attribute("/state", "pos", I32, values=bytes([8]))),
    "ckpt-epoch-2^31": program(1, attribute("/state", "epoch", I32, values=bytes([11]))),
    "ckpt-global-batch-2^31": program(1, attribute("/", "global_batch", U64, values=bytes([11]))),
    "ckpt-loss-sum-string": program(1, attribute("/state", "epoch_loss_sum", STR, type_bytes=(3, 0), values=bytes([4]))),
    "ckpt-clip-steps-negative": program(1, attribute("/state/level1", "clip_steps", I8, values=bytes([9]))),
    "ckpt-fc1-soft-loop": program(1, delete("/model/fc1"), link("/model/fc1", "/model/fc1", 1)),
    "ckpt-fc1-weight-external": program(1, link("/model/fc1/weight", "/model", 3)),
    "ckpt-fc1-weight-is-group": program(1, link("/model/fc1/weight", "/model", 0)),
    "ckpt-model-hard-link-to-state": program(1, link("/model", "/state", 2)),
    "ckpt-level3-extra": program(1, link("/state/level3", "/model", 0)),
    "metrics-loss-2d": program(2, dataset("/steps/loss", F64, [3, 2], chunked=1, write=3)),
    "metrics-loss-huge-unlimited": program(2, dataset("/steps/loss", F64, [2**62], chunked=1)),
    "metrics-loss-short": program(2, dataset("/steps/loss", F64, [1], chunked=1, write=3)),
    "metrics-train-loss-compound": program(2, dataset("/epochs/train_loss", COMPOUND, [1], write=3)),
    "metrics-alpha-value-int": program(2, dataset("/steps/level1/alpha/value", I8, [3], chunked=1, write=3)),
    "metrics-no-epochs": program(2, delete("/epochs")),
    "metrics-steps-opaque": program(2, dataset("/steps/level1/alpha/grad", OPAQUE, [3], write=3)),
    "metrics-enum-attr": program(2, attribute("/", "seed", ENUM, values=bytes([1]))),
    "weights-model-attr-4-strings": program(3, attribute("/", "model", STR, rank=1, d0=3, type_bytes=(3, 0), values=bytes([2, 2, 2, 2]))),
    "weights-fc2-weight-scalar": program(3, dataset("/model/fc2/weight", F32, [], write=3)),
    "weights-fc2-weight-zero-dim": program(3, dataset("/model/fc2/weight", F32, [0, 128])),
}
for name, data in ckpt_seeds.items():
    put("fuzz_ckpt", name, data)

if len(sys.argv) > 1:
    binary = sys.argv[1]
    out = tempfile.mkdtemp()
    try:
        env = dict(os.environ, HC_FUZZ_SAVE=out)
        # metrics files are ~230 KB (one 1024-row chunk per column): one raw seed is enough
        raw = [n for n in ckpt_seeds if not n.startswith("metrics-") or n == "metrics-whole"]
        for name in raw:
            for f in os.listdir(out):
                os.unlink(os.path.join(out, f))
            subprocess.run([binary, "-runs=1", os.path.join(CORPUS, "fuzz_ckpt", name)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            built = os.listdir(out)
            if len(built) == 1:
                shutil.copy(os.path.join(out, built[0]),
                            os.path.join(CORPUS, "fuzz_ckpt", "raw-" + name + ".h5"))
            else:
                print(f"make_corpus: {name} built {len(built)} files", file=sys.stderr)
    finally:
        shutil.rmtree(out)
print("make_corpus: seeds written to", CORPUS)
