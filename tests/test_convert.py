#!/usr/bin/env python3
"""End-to-end tests of `model-scanner convert` (no torch needed).

Runs every case of tests/fixtures/convert/cases.json (written, with the
expected tensors, by gen_convert.py from torch.load) on a copy of the
fixtures, parses each safetensors output itself and compares every tensor
bit for bit; checks __metadata__, that refusals write nothing, that the
outputs scan clean, and the command's arguments, --force and exit codes.

usage: test_convert.py SCANNER FIXTURES_DIR
"""
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

from checklib import expect as check, finish  # noqa: E402


def run(scanner, args, cwd):
    p = subprocess.run([scanner, "convert"] + args, cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        tensors[name] = {"dtype": e["dtype"], "shape": e["shape"], "hex": body[a:b].hex()}
    return header.get("__metadata__", {}), tensors, n


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def scan_clean(scanner, path, what):
    p = subprocess.run([scanner, "--model-path", path, "--output-format", "json"],
                       capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return check(False, f"{what}: the scan of the output is JSON")
    check(report.get("vulnerabilities") == [],
          f"{what}: scanning the output reports no vulnerability "
          f"({[v.get('rule_id') for v in report.get('vulnerabilities', [])]})")
    formats = {f["format"] for f in report.get("files", []) if f["path"].endswith(".safetensors")}
    check(formats == {"safetensors"}, f"{what}: the output is detected as safetensors")


def leftovers(folder):
    return [f for f in os.listdir(folder) if ".convert-" in f]


def compare(scanner, what, out, src, expected, tied=None):
    if not check(os.path.exists(out), f"{what}: {os.path.basename(out)} written"):
        return
    meta, tensors, hlen = read_safetensors(out)
    check(hlen % 8 == 0, f"{what}: header padded to 8 bytes")
    check(meta.get("format") == "pt", f"{what}: __metadata__ format is pt")
    check(meta.get("source_sha256") == sha256(src), f"{what}: __metadata__ source_sha256")
    check(meta.get("converted_by", "").startswith("model-scanner"),
          f"{what}: __metadata__ converted_by")
    for dropped, kept in (tied or {}).items():
        check(meta.get(dropped) == kept, f"{what}: metadata records {dropped} -> {kept}")
    check(sorted(tensors) == sorted(expected),
          f"{what}: tensor names {sorted(tensors)} == {sorted(expected)}")
    for name, want in expected.items():
        got = tensors.get(name)
        if not got:
            continue
        check(got["dtype"] == want["dtype"],
              f"{what}: {name} dtype {got['dtype']} == {want['dtype']}")
        check(got["shape"] == want["shape"],
              f"{what}: {name} shape {got['shape']} == {want['shape']}")
        check(got["hex"] == want["hex"], f"{what}: {name} bytes equal torch.load's, bit for bit")
    scan_clean(scanner, out, what)


def run_case(scanner, fixtures, c):
    what = c["name"]
    with tempfile.TemporaryDirectory(prefix="ms-convert-") as work:
        for a in c["args"]:
            if a.startswith("--"):
                continue
            src = os.path.join(fixtures, a)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(work, a))
            else:
                shutil.copy(src, os.path.join(work, a))
        rc, out, err = run(scanner, c["args"], work)
        check(rc == c["status"], f"{what}: exit status {rc} == {c['status']} ({err.strip()[:300]})")
        target = [a for a in c["args"] if not a.startswith("--")][0]
        tdir = os.path.join(work, os.path.dirname(target)) if not c.get("folder") else \
            os.path.join(work, target)
        check(not os.path.exists(os.path.join(work, "payload-ran")), f"{what}: no payload ran")
        check(not leftovers(tdir), f"{what}: no temporary file left behind")
        for rule in c.get("findings", []):
            check(f"[{rule}]" in out, f"{what}: the refusal shows {rule} as a scan would")
        if "message" in c:
            check(c["message"] in out + err, f"{what}: says '{c['message']}'")
        if c.get("folder"):
            for name, expected in c.get("shards", {}).items():
                src = os.path.join(tdir, name.replace("model", "pytorch_model", 1)
                                   .replace(".safetensors", ".bin"))
                compare(scanner, f"{what} [{name}]", os.path.join(tdir, name), src, expected)
            if c["status"] != 0:
                check(not [f for f in os.listdir(tdir) if f.endswith(".safetensors")
                           or f.startswith("model.safetensors")],
                      f"{what}: nothing written for the folder")
            if "index" in c:
                check_index(what, tdir, c["index"])
            return
        out_path = os.path.join(tdir, c["output"])
        if c["status"] != 0:
            check(not os.path.exists(out_path), f"{what}: nothing written")
            return
        compare(scanner, what, out_path, os.path.join(work, target), c["tensors"], c.get("tied"))
        for d in c.get("dropped", []):
            check(d in out, f"{what}: lists the dropped entry {d}")
        if "materialised" in c:
            check(re.search(rf"\b{c['materialised']} views? or strided tensors? written "
                            "contiguously", out) is not None,
                  f"{what}: reports {c['materialised']} tensors made contiguous")
        if c.get("big_endian"):
            check("big-endian bytes swapped" in out, f"{what}: says the bytes were swapped")


def check_index(what, folder, name):
    path = os.path.join(folder, name)
    if not check(os.path.exists(path), f"{what}: {name} written"):
        return
    new = json.load(open(path))
    old = json.load(open(os.path.join(folder, "pytorch_model.bin.index.json")))
    check(new.get("metadata") == old.get("metadata"), f"{what}: index metadata kept")
    want = {k: v.replace("pytorch_model", "model").replace(".bin", ".safetensors")
            for k, v in old["weight_map"].items()}
    check(new.get("weight_map") == want, f"{what}: index weight_map renamed like HF")
    for f in set(want.values()):
        check(os.path.exists(os.path.join(folder, f)), f"{what}: {f} exists")


def extra_tests(scanner, fixtures):
    with tempfile.TemporaryDirectory(prefix="ms-convert-") as work:
        src = os.path.join(work, "pytorch_model.bin")
        shutil.copy(os.path.join(fixtures, "dtypes-zip.pt"), src)

        # default output name, as Hugging Face names it
        rc, out, err = run(scanner, ["pytorch_model.bin"], work)
        check(rc == 0 and os.path.exists(os.path.join(work, "model.safetensors")),
              f"pytorch_model.bin -> model.safetensors ({err.strip()})")
        first = open(os.path.join(work, "model.safetensors"), "rb").read()

        # an existing output is never replaced without --force
        with open(os.path.join(work, "model.safetensors"), "wb") as f:
            f.write(b"keep me")
        rc, out, err = run(scanner, ["pytorch_model.bin"], work)
        check(rc == 2, f"existing output without --force exits 2 (got {rc})")
        check("--force" in err, "existing output: the message names --force")
        check(open(os.path.join(work, "model.safetensors"), "rb").read() == b"keep me",
              "existing output left untouched")
        rc, out, err = run(scanner, ["--force", "pytorch_model.bin"], work)
        check(rc == 0, f"--force replaces the output (got {rc}: {err.strip()})")
        again = open(os.path.join(work, "model.safetensors"), "rb").read()
        check(again == first, "converting twice gives the same bytes")

        # an explicit OUTPUT, --quiet
        rc, out, err = run(scanner, ["--quiet", "pytorch_model.bin", "sub.safetensors"], work)
        check(rc == 0 and out == "" and os.path.exists(os.path.join(work, "sub.safetensors")),
              f"explicit OUTPUT and --quiet ({rc}, {out!r})")
        rc, out, err = run(scanner, ["pytorch_model.bin", "sub.safetensors"], work)
        check(rc == 2, "explicit OUTPUT that exists: exit 2")
        rc, out, err = run(scanner, ["pytorch_model.bin", "pytorch_model.bin"], work)
        check(rc == 2 and open(src, "rb").read()[:2] == b"PK",
              "OUTPUT == INPUT refused, input kept")

        # arguments
        for args, what in (([], "no INPUT"), (["a", "b", "c"], "three operands"),
                           (["--bogus", "pytorch_model.bin"], "unknown option"),
                           (["missing.pt"], "missing input"),
                           ([".", "x.safetensors"], "OUTPUT for a folder")):
            rc, out, err = run(scanner, args, work)
            check(rc == 2, f"{what}: exit 2 (got {rc})")
        rc, out, err = run(scanner, ["--help"], work)
        check(rc == 0 and "--drop-non-tensors" in out, "convert --help")
        empty = os.path.join(work, "empty")
        os.mkdir(empty)
        rc, out, err = run(scanner, ["empty"], work)
        check(rc == 2, f"a folder with nothing to convert: exit 2 (got {rc})")

        # what is not a checkpoint is refused, and nothing is written
        with open(os.path.join(work, "notes.txt"), "w") as f:
            f.write("hello\n")
        rc, out, err = run(scanner, ["notes.txt"], work)
        check(rc == 1 and not os.path.exists(os.path.join(work, "notes.safetensors")),
              f"a text file is refused (got {rc})")
        rc, out, err = run(scanner, ["model.safetensors", "again.safetensors"], work)
        check(rc == 1, f"a safetensors file is not converted again (got {rc})")
        data = open(src, "rb").read()
        with open(os.path.join(work, "cut.pt"), "wb") as f:
            f.write(data[:len(data) // 2])
        rc, out, err = run(scanner, ["cut.pt"], work)
        check(rc == 1 and not os.path.exists(os.path.join(work, "cut.safetensors")),
              f"a truncated checkpoint is refused (got {rc})")
        # storages deflated (torch never does): refused, nothing written
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(os.path.join(work, "deflated.pt"), "w",
                                                          zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info.filename, zin.read(info.filename))
        rc, out, err = run(scanner, ["deflated.pt"], work)
        check(rc == 1 and not os.path.exists(os.path.join(work, "deflated.safetensors")),
              f"deflated storages are refused (got {rc})")
        check(not leftovers(work), "no temporary file left behind")


def main():
    scanner, fixtures = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    cases = json.load(open(os.path.join(fixtures, "cases.json")))
    for c in cases:
        run_case(scanner, fixtures, c)
    extra_tests(scanner, fixtures)
    finish()


if __name__ == "__main__":
    main()
