#!/usr/bin/python3
"""Build every tests/golden/<case>/model/ folder, deterministically.

    /usr/bin/python3 tests/golden/gen_golden.py [CASE ...]

Needs torch and numpy (CI does not run this: the generated folders are
committed). Re-running it must reproduce the committed bytes exactly; after
regenerating, refresh the expected reports with

    python3 tests/run_golden.py build/model-scanner tests/golden --update

and review every finding by eye.

Nothing generated here is ever unpickled: the malicious pickles are only
written. The helpers come from examples/gen_demo_model.py (the demo repository
is the base of the hf-repo-malicious case).
"""
import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import gen_demo_model as demo  # noqa: E402

MAX_FILE = 50 * 1024


def det_bytes(seed, n):
    """n random-looking bytes, the same on every run (sha256 in counter mode)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


# A Hugging Face repo's .gitattributes normally routes weights through Git LFS
# (`*.bin filter=lfs diff=lfs merge=lfs -text`). This file is committed inside
# this project's own repository, where git would honour it: with git-lfs
# installed, the golden model files would be committed as LFS pointers. So it
# only sets attributes that leave the committed bytes alone.
GITATTRIBUTES = """\
# model weights are binary: no end-of-line conversion, no textual diff or merge
*.bin binary
*.ckpt binary
*.gz binary
*.h5 binary
*.npy binary
*.pkl binary
*.pt binary
*.pth binary
*.safetensors binary
*.zip binary
checkpoint binary
*.json text eol=lf
*.md text eol=lf linguist-documentation
"""


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------

def optimizer_state_dict():
    """A benign Adam state dict after one step on a fixed batch."""
    import torch

    model = demo.tiny_model(seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(2)
    x = torch.randn(3, 8)
    y = torch.tensor([0, 1, 1])
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return opt.state_dict()


def numpy_array_pickle(protocol):
    import numpy as np

    return pickle.dumps(np.arange(12, dtype=np.float32).reshape(3, 4) / 8, protocol=protocol)


def nullifai_broken():
    """nullifAI-style: a working payload, then the stream breaks (no STOP):
    POP the call's result, then bytes that are no pickle opcode at all."""
    good = demo.reduce_pickle(os.system, ("id > /tmp/pwned",), protocol=2)
    assert good.endswith(b".")
    return good[:-1] + b"0" + b"\x00\xff broken on purpose"


def appended_stream():
    """A benign pickle, then a second (malicious) pickle after its STOP."""
    benign = pickle.dumps({"weights": [0.25, 0.5, 0.75], "epoch": 3}, protocol=2)
    evil = demo.reduce_pickle(subprocess.Popen, (["sh", "-c", "id"],), protocol=2)
    return benign + evil


def trailing_garbage():
    """A benign pickle followed by bytes that do not form a pickle."""
    return pickle.dumps([1, 2, 3], protocol=2) + b"\x00\x00\xfe\xfftrailing garbage\x00" + det_bytes(
        "trailing", 16
    )


def truncated_legacy_torch():
    data = demo.legacy_torch_save(demo.tiny_model(seed=3).state_dict())
    # cut inside the raw storage section (the last storage is 2 floats + its
    # 8-byte count): the pickles are intact, the tensor data is not
    return data[:-6]


def zip_with_pickle():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("archive/data.pkl", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, demo.reduce_pickle(os.system, ("touch /tmp/from-zip",), protocol=2))
        info = zipfile.ZipInfo("archive/version", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, b"3\n")
    return buf.getvalue()


def gzip_of_pickle():
    payload = pickle.dumps(OrderedDict([("bias", [0.0, 0.5]), ("scale", 2.0)]), protocol=2)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(payload)
    return buf.getvalue()


def npy_array():
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4))
    return buf.getvalue()


def hdf5_file():
    """A small benign Keras-style HDF5 file (no creation timestamps)."""
    try:
        import h5py
    except ImportError:
        return None
    import json

    import numpy as np

    config = {
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {"class_name": "InputLayer",
                 "config": {"batch_input_shape": [None, 2], "dtype": "float32", "name": "input_1"}},
                {"class_name": "Dense",
                 "config": {"name": "dense", "units": 4, "activation": "relu", "use_bias": True}},
            ],
        },
    }
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        w = f.create_group("model_weights/dense/dense")
        w.create_dataset("kernel:0", data=np.arange(8, dtype=np.float32).reshape(2, 4) / 8,
                         track_times=False)
        w.create_dataset("bias:0", data=np.zeros(4, dtype=np.float32), track_times=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# the cases: name -> {relative path: bytes}, plus symlinks
# ---------------------------------------------------------------------------

def case_hf_repo_malicious():
    """The demo repository plus pickles under misleading names. Expected: Arbitrary
    Code Execution in training_args.bin (posix.system), model.safetensors
    (builtins.exec), weights.npy (builtins.eval) and checkpoint
    (subprocess.check_output); Insecure Pickle Loading for every pickle
    (including the benign pytorch_model.bin and sub/dir/optimizer.pt).
    Nothing for the README (os.system in prose), configs or .gitattributes."""
    files = demo.demo_files()
    files[".gitattributes"] = GITATTRIBUTES.encode()
    # a pickle (protocol 4, STACK_GLOBAL) importing builtins.exec, named as safetensors
    files["model.safetensors"] = demo.reduce_pickle(
        exec, ("import os; os.system('id')",), protocol=4
    )
    # a raw pickle (not the .npy format) named .npy: an array plus a call to
    # builtins.eval (written as __builtin__.eval by protocol 2)
    import numpy as np

    class ArrayThenEval:
        def __reduce__(self):
            return (eval, ("__import__('os').getcwd()",))

    files["weights.npy"] = pickle.dumps(
        [np.zeros(4, dtype=np.float32), ArrayThenEval()], protocol=2
    )
    # no extension, protocol 0 (text GLOBAL)
    files["checkpoint"] = demo.reduce_pickle(
        subprocess.check_output, (["uname", "-a"],), protocol=0
    )
    files["sub/dir/optimizer.pt"] = demo.legacy_torch_save(optimizer_state_dict())
    return files, {}


def case_clean_pickles():
    """Only benign pickles. Expected: one Insecure Pickle Loading per file."""
    files = {
        "pytorch_model.bin": demo.legacy_torch_save(demo.tiny_model(seed=4).state_dict()),
        "array.pkl": numpy_array_pickle(protocol=2),
        "ordered.pkl": pickle.dumps(
            OrderedDict([("layer.0.scale", 1.5), ("layer.0.name", "dense"), ("steps", [1, 2, 3])]),
            protocol=0,
        ),
    }
    return files, {}


def case_broken_and_appended():
    """Expected: the posix.system payload and a break (PICKLE-MALFORMED) in
    nullifai_model.pt; the subprocess.Popen payload of the appended stream and
    PICKLE-APPENDED-STREAM in appended.pkl; PICKLE-TRAILING-DATA in
    trailing.pkl; PICKLE-MALFORMED (storage past the end) in truncated.bin."""
    files = {
        "nullifai_model.pt": nullifai_broken(),
        "appended.pkl": appended_stream(),
        "trailing.pkl": trailing_garbage(),
        "truncated.bin": truncated_legacy_torch(),
    }
    return files, {}


def case_unanalysed_containers():
    """Recognised but not yet analysed formats, and a symlink leaving the folder.
    Expected today: Unscanned Content for each container, Path Traversal for
    escape.bin. Once zip is analysed: posix.system in
    archive.zip!archive/data.pkl; the gzip holds a benign OrderedDict pickle,
    the .npy a float array and the .h5 a benign Keras Dense model."""
    files = {
        "archive.zip": zip_with_pickle(),
        "state.pkl.gz": gzip_of_pickle(),
        "array.npy": npy_array(),
    }
    # h5py is optional; the HDF5 file is only (re)built when it is installed
    h5 = hdf5_file()
    if h5 is not None:
        files["model.h5"] = h5
    else:
        print("warning: h5py not installed, model.h5 not generated", file=sys.stderr)
    return files, {"escape.bin": "/etc/passwd"}


def case_empty_and_text():
    """Nothing here is a pickle or carries code: only Unverified Source."""
    files = {
        "empty.bin": b"",
        "random.bin": det_bytes("random.bin", 1024),
        # 'c' is the protocol-0 GLOBAL opcode: "click\n" must not make this a pickle
        "requirements.txt": b"click\ntqdm>=4.27\nnumpy>=1.24\ntorch>=1.13\n",
        "notes.txt": b"cat\ndog\nfish\nThe labels above are the classes of the demo dataset.\n",
        "generation_config.json": demo.dump_json(
            {"_from_model_config": True, "max_length": 64, "pad_token_id": 0,
             "transformers_version": "4.30.0"}
        ),
    }
    return files, {}


# ---------------------------------------------------------------------------
# integrity and provenance (threat-catalog.md section 4): what git can hold.
# Set-id bits cannot be committed; tests/test_integrity.py builds those at
# test time. A case may return a third element: {"case_files": {path under
# the case folder, outside model/: bytes}, "model_dir": name}; with
# "model_dir", the files go to <case>/<model_dir> and <case>/model is a
# symbolic link to it (a Hugging Face cache entry is recognised by its
# models--org--name folder name). A file's bytes may be (bytes, mode).
# ---------------------------------------------------------------------------

CARD_LICENSED = b"""\
---
license: apache-2.0
language:
- en
tags:
- text-classification
---
# tiny-classifier

A two-layer classifier for the golden tests of model-scanner.
"""

CARD_UNLICENSED = b"""\
---
language:
- en
tags:
- text-classification
---
# tiny-classifier

A two-layer classifier. The card's front matter names no license.
"""


def benign_state_pickle(seed):
    return pickle.dumps(OrderedDict([("fc.weight", [0.125 * seed, -0.5, 0.25]),
                                     ("fc.bias", [0.0]), ("step", seed)]), protocol=2)


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def case_integrity_file_mode():
    """Expected: INTEGRITY-FILE-MODE for model.pkl (a pickle with mode 0755,
    committed as 100755); nothing for convert.sh (0755, but a text script).
    Set-uid bits are tested by tests/test_integrity.py (git cannot hold them)."""
    files = {
        "README.md": CARD_LICENSED,
        "model.pkl": (benign_state_pickle(1), 0o755),
        "convert.sh": (b"#!/bin/sh\n# converts the checkpoint\nexec python3 convert.py \"$@\"\n",
                       0o755),
    }
    return files, {}


def case_integrity_symlink_escape():
    """Expected: PATH-SYMLINK-ESCAPE for weights.bin, a relative link that
    climbs out of the model folder to /etc/passwd (enough '..' to reach / from
    any checkout); current.pkl, a link to a file inside the folder, is scanned
    under its own name (Insecure Pickle Loading, like model.pkl)."""
    files = {"README.md": CARD_LICENSED, "model.pkl": benign_state_pickle(2)}
    links = {"weights.bin": "../" * 32 + "etc/passwd", "current.pkl": "model.pkl"}
    return files, links


def case_integrity_lfs_pointer():
    """Expected: INTEGRITY-LFS-POINTER (Missing Model Content) for
    pytorch_model.bin, a Git LFS pointer cloned without git-lfs; its oid and
    size are in the details. config.json is a plain config."""
    oid = hashlib.sha256(b"the real weights, never fetched").hexdigest()
    files = {
        "README.md": CARD_LICENSED,
        "config.json": demo.dump_json({"model_type": "bert", "hidden_size": 8}),
        "pytorch_model.bin": b"version https://git-lfs.github.com/spec/v1\noid sha256:" +
                             oid.encode() + b"\nsize 438007537\n",
    }
    return files, {}


HF_REVISION = hashlib.sha1(b"model-scanner golden revision").hexdigest()


def case_integrity_hf_cache():
    """A Hugging Face cache entry models--acme--tiny-classifier (model/ links
    to it): blobs/ named by content hash, snapshots/<rev>/ links into blobs/,
    refs/main naming <rev>. Expected: INTEGRITY-MISMATCH for
    pytorch_model.bin, whose blob is named after the sha256 of other bytes;
    model.pkl (sha256-named LFS blob), config.json and README.md (git-sha1
    named blobs) match and are not reported. model_name is acme/tiny-classifier
    and the provenance details name the cache revision. (The model card in a
    cache snapshot is not read for provenance today: no license facts here.)"""
    model_pkl = benign_state_pickle(3)
    tampered = benign_state_pickle(4)
    config = demo.dump_json({"model_type": "bert", "hidden_size": 8})
    blobs = {
        hashlib.sha256(model_pkl).hexdigest(): model_pkl,
        hashlib.sha256(b"the weights the publisher uploaded").hexdigest(): tampered,
        git_blob_sha1(config): config,
        git_blob_sha1(CARD_LICENSED): CARD_LICENSED,
    }
    names = list(blobs)
    files = {f"blobs/{name}": data for name, data in blobs.items()}
    files["refs/main"] = HF_REVISION.encode()
    snap = f"snapshots/{HF_REVISION}"
    links = {f"{snap}/model.pkl": f"../../blobs/{names[0]}",
             f"{snap}/pytorch_model.bin": f"../../blobs/{names[1]}",
             f"{snap}/config.json": f"../../blobs/{names[2]}",
             f"{snap}/README.md": f"../../blobs/{names[3]}"}
    return files, links, {"model_dir": "models--acme--tiny-classifier"}


def case_integrity_manifest():
    """Scanned with --manifest <case>/SHA256SUMS (the case's args file).
    Expected: INTEGRITY-MISMATCH for config.json (the manifest has another
    hash), INTEGRITY-MANIFEST-MISSING for tokenizer.json (listed, absent),
    INTEGRITY-MANIFEST-UNLISTED for notes.txt; model.pkl and README.md match.
    The provenance details say a manifest was checked."""
    model_pkl = benign_state_pickle(5)
    config = demo.dump_json({"model_type": "bert", "hidden_size": 8})
    files = {"README.md": CARD_LICENSED, "model.pkl": model_pkl, "config.json": config,
             "notes.txt": b"added after the manifest was made\n"}
    manifest = "".join(f"{h}  {name}\n" for name, h in [
        ("README.md", hashlib.sha256(CARD_LICENSED).hexdigest()),
        ("config.json", hashlib.sha256(config.replace(b"8", b"16")).hexdigest()),
        ("model.pkl", hashlib.sha256(model_pkl).hexdigest()),
        ("tokenizer.json", hashlib.sha256(b"{}").hexdigest()),
    ])
    return files, {}, {"case_files": {"SHA256SUMS": manifest.encode(),
                                      "args": b"--manifest {case}/SHA256SUMS\n"}}


def case_provenance_license():
    """A model card whose front matter declares a license. Expected: no
    PROVENANCE-NO-LICENSE; PROVENANCE-UNVERIFIED names license apache-2.0."""
    return {"README.md": CARD_LICENSED, "model.pkl": benign_state_pickle(6)}, {}


def case_provenance_no_license():
    """A model card with front matter but no license. Expected:
    PROVENANCE-NO-LICENSE at README.md (front matter present, no license)."""
    return {"README.md": CARD_UNLICENSED, "model.pkl": benign_state_pickle(6)}, {}


CASES = {
    "hf-repo-malicious": case_hf_repo_malicious,
    "clean-pickles": case_clean_pickles,
    "broken-and-appended": case_broken_and_appended,
    "unanalysed-containers": case_unanalysed_containers,
    "empty-and-text": case_empty_and_text,
    "integrity-file-mode": case_integrity_file_mode,
    "integrity-symlink-escape": case_integrity_symlink_escape,
    "integrity-lfs-pointer": case_integrity_lfs_pointer,
    "integrity-hf-cache": case_integrity_hf_cache,
    "integrity-manifest": case_integrity_manifest,
    "provenance-license": case_provenance_license,
    "provenance-no-license": case_provenance_no_license,
}


def build(case):
    files, links, *rest = CASES[case]()
    extra = rest[0] if rest else {}
    case_dir = os.path.join(HERE, case)
    model_dir = extra.get("model_dir", "model")
    model = os.path.join(case_dir, model_dir)
    for old in {os.path.join(case_dir, "model"), model}:
        if os.path.islink(old):
            os.unlink(old)
        elif os.path.lexists(old):
            shutil.rmtree(old)
    os.makedirs(model)
    for rel, data in sorted(files.items()):
        data, mode = data if isinstance(data, tuple) else (data, 0o644)
        assert len(data) < MAX_FILE, (case, rel, len(data))
        path = os.path.join(model, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    for rel, target in sorted(links.items()):
        path = os.path.join(model, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
    if model_dir != "model":
        os.symlink(model_dir, os.path.join(case_dir, "model"))
    for rel, data in sorted(extra.get("case_files", {}).items()):
        with open(os.path.join(case_dir, rel), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(case_dir, rel), 0o644)
    print(f"{case}: {len(files)} file(s), {len(links)} symlink(s)")


def main():
    for case in sys.argv[1:] or sorted(CASES):
        build(case)


if __name__ == "__main__":
    main()

# tests/golden/remote-code/model is not generated here: it is a copy of
# tests/fixtures/pycode/repos/malicious-remote-code (made by
# tests/fixtures/pycode/generate.py) plus its notebooks/curl-pipe-sh.ipynb,
# scanned end to end through the command line.
