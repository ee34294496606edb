#!/usr/bin/env python3
"""Files that another file in the scan reads as its data.

An ONNX model saved with external data (onnx.save_model(...,
save_as_external_data=True)) keeps its weights in a raw file next to it. That
file is in no format of its own; the scan recognises it as the model's data
("onnx-external-data") from the model's external_data locations, instead of
reporting it as unrecognised content (FORMAT-UNRECOGNISED). Everything else
stays reported: a named file that is a pickle, a file no model names, a
location the scanner cannot resolve exactly like the loader, a model inside
an archive (no loader reads its external data from the folder).

The models are the committed fixture (made with python3-onnx by
tests/fixtures/onnx/gen_fixtures.py) with its 15-byte location replaced by
another of the same length, so the protobuf framing stays valid.

usage: test_companions.py SCANNER ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

SCANNER = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
FIX = os.path.join(ROOT, "tests", "fixtures", "onnx", "external-benign")
MODEL = open(os.path.join(FIX, "model.onnx"), "rb").read()
DATA = open(os.path.join(FIX, "model.onnx.data"), "rb").read()
PICKLE = os.path.join(ROOT, "tests", "fixtures", "pickle")
LOCATION = b"model.onnx.data"

from checklib import check, finish  # noqa: E402


def model_with(location):
    assert len(location) == len(LOCATION) and MODEL.count(LOCATION) == 1, location
    return MODEL.replace(LOCATION, location)


def repo(name, files):
    d = os.path.join(tmp, name)
    for rel, content in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content)
    return d


def scan(path, *extra):
    p = subprocess.run([SCANNER, "--no-progress", "--model-path", path, *extra],
                       capture_output=True, text=True)
    doc = json.loads(p.stdout) if p.stdout.startswith("{") else None
    return p.returncode, doc


def formats(doc):
    return {f["path"]: f["format"] for f in doc["files"]}


def rules_at(doc, location):
    return sorted(f["rule_id"] for f in doc["vulnerabilities"] + doc["warnings"]
                  if f["location"] == location)


tmp = tempfile.mkdtemp(prefix="ms-companions-")
evil_pickle = open(os.path.join(PICKLE, "reduce-os-system-protocol-2.pkl"), "rb").read()

# 1. the fixture as saved: the data file is recognised, nothing reported on it
rc, doc = scan(FIX)
check("saved model: the data file is onnx-external-data",
      formats(doc).get("model.onnx.data") == "onnx-external-data", formats(doc))
check("saved model: no finding on the data file", rules_at(doc, "model.onnx.data") == [],
      rules_at(doc, "model.onnx.data"))

# 2. a model in a subfolder, its location with '.' and '..' segments
d = repo("subfolder", {"onnx/model.onnx": model_with(b"./w/../x.data00"),
                       "onnx/x.data00": DATA})
rc, doc = scan(d)
check("subfolder: './w/../x.data00' resolves to onnx/x.data00",
      formats(doc).get("onnx/x.data00") == "onnx-external-data", formats(doc))
check("subfolder: no finding on it", rules_at(doc, "onnx/x.data00") == [])

# 3. a file the model does not name stays unrecognised
d = repo("stray", {"model.onnx": MODEL, "model.onnx.data": DATA, "other.bin": DATA})
rc, doc = scan(d)
check("stray file: still FORMAT-UNRECOGNISED", rules_at(doc, "other.bin") == ["FORMAT-UNRECOGNISED"],
      rules_at(doc, "other.bin"))
check("stray file: its format stays binary", formats(doc).get("other.bin") == "binary")
check("stray file: the named one is recognised",
      formats(doc).get("model.onnx.data") == "onnx-external-data")

# 4. a named file in a format of its own keeps its format and findings
d = repo("pickle-as-data", {"model.onnx": MODEL, "model.onnx.data": evil_pickle})
rc, doc = scan(d, "--fail-on", "critical")
check("pickle named as external data: still a pickle", formats(doc).get("model.onnx.data") == "pickle",
      formats(doc))
check("pickle named as external data: its findings stay",
      "PICKLE-DANGEROUS-GLOBAL" in rules_at(doc, "model.onnx.data"), rules_at(doc, "model.onnx.data"))
check("pickle named as external data: exit 1", rc == 1)

# 5. locations not resolved like the loader would: the file stays reported
for label, loc, rel in (("backslash", b"w\\model.onnx.da", "sub/w/model.onnx.da"),
                        ("escaping", b"../model.onnx.d", "model.onnx.d")):
    d = repo(f"unresolved-{label}", {"sub/model.onnx": model_with(loc), rel: DATA})
    rc, doc = scan(d)
    check(f"{label} location: the file stays FORMAT-UNRECOGNISED",
          rules_at(doc, rel) == ["FORMAT-UNRECOGNISED"], (rules_at(doc, rel), formats(doc)))
# the escaping one is the traversal finding it always was
check("escaping location: still a path traversal",
      "ONNX-EXTERNAL-DATA-TRAVERSAL" in rules_at(doc, "sub/model.onnx"), rules_at(doc, "sub/model.onnx"))

# 6. a model inside an archive names nothing on disk
zpath = os.path.join(tmp, "zipped")
os.makedirs(zpath)
with zipfile.ZipFile(os.path.join(zpath, "bundle.zip"), "w") as z:
    z.writestr("model.onnx", MODEL)
with open(os.path.join(zpath, "model.onnx.data"), "wb") as f:
    f.write(DATA)
rc, doc = scan(zpath)
check("model in an archive: the folder's file stays unrecognised",
      rules_at(doc, "model.onnx.data") == ["FORMAT-UNRECOGNISED"], rules_at(doc, "model.onnx.data"))

# 7. the same report whatever the number of threads, and several models
#    naming one file
d = repo("two-models", {"a.onnx": MODEL, "b.onnx": MODEL, "model.onnx.data": DATA,
                        "other.bin": DATA})
docs = []
for j in ("1", "2", "5"):
    rc, doc = scan(d, "--jobs", j)
    doc.pop("scan_timestamp", None)
    docs.append(doc)
check("two models, one data file: recognised",
      formats(docs[0]).get("model.onnx.data") == "onnx-external-data")
check("--jobs 1/2/5: the same report", docs[0] == docs[1] == docs[2])

# 8. the CycloneDX BOM and the text report carry the format
p = subprocess.run([SCANNER, "--no-progress", "--model-path", FIX, "--output-format", "cyclonedx"],
                   capture_output=True, text=True)
bom = json.loads(p.stdout)
comp = {c.get("name"): {q["name"]: q["value"] for q in c.get("properties", [])}
        for c in bom.get("components", [])}
check("CycloneDX: the data file's format is onnx-external-data",
      comp.get("model.onnx.data", {}).get("model-scanner:format") == "onnx-external-data", comp)
check("CycloneDX: no vulnerability for the data file",
      not any("model.onnx.data" in json.dumps(v.get("affects", [])) for v in bom.get("vulnerabilities", [])))
p = subprocess.run([SCANNER, "--no-progress", "--model-path", FIX, "--output-format", "text"],
                   capture_output=True, text=True)
check("text: nothing said about the data file", "model.onnx.data" not in p.stdout, p.stdout[:400])

shutil.rmtree(tmp, ignore_errors=True)
finish()
