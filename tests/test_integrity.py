#!/usr/bin/env python3
"""Integrity and provenance, on folders built at test time (git cannot store
set-id bits, and a Hugging Face cache needs absolute layout):
executable/set-uid data files, Git LFS pointers, a Hugging Face cache entry
with a tampered blob (sha256-named and git-sha1-named), refs/main vs
--all-snapshots, symlinks out of the cache entry, a --manifest (match,
mismatch, missing, unlisted, malformed), git metadata and the model card
license.

The same behaviours that git can hold (an executable data file, a symlink
out of the folder, an LFS pointer, a cache entry with a tampered blob, a
manifest, a card with and without a license) are also committed golden cases:
tests/golden/integrity-*, tests/golden/provenance-* (made by gen_golden.py).

usage: test_integrity.py SCANNER
"""
import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys
import tempfile

SCANNER = sys.argv[1]
from checklib import expect as check, finish  # noqa: E402


def scan(path, *extra):
    p = subprocess.run([SCANNER, "--model-path", path, "--output-format", "json", "--quiet",
                        *extra], capture_output=True)
    return p.returncode, (json.loads(p.stdout) if p.stdout else None), p.stderr.decode()


def findings(report, rule=None, location=None):
    out = report["vulnerabilities"] + report["warnings"]
    return [f for f in out if (rule is None or f["rule_id"] == rule)
            and (location is None or f["location"] == location)]


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


BENIGN = pickle.dumps({"w": [1.0, 2.0]}, protocol=2)
CARD = b"---\nlicense: mit\ntags:\n- test\n---\n# A model\n"

with tempfile.TemporaryDirectory() as tmp:
    # --- permissions and LFS pointers
    repo = os.path.join(tmp, "repo")
    write(os.path.join(repo, "model.pkl"), BENIGN, 0o755)
    write(os.path.join(repo, "setid.txt"), b"hello\n", 0o644 | stat.S_ISUID)
    write(os.path.join(repo, "run.sh"), b"#!/bin/sh\necho hi\n", 0o755)
    write(os.path.join(repo, "README.md"), CARD)
    oid = hashlib.sha256(b"x").hexdigest()
    write(os.path.join(repo, "pytorch_model.bin"),
          b"version https://git-lfs.github.com/spec/v1\noid sha256:" + oid.encode() +
          b"\nsize 440473133\n")
    rc, r, err = scan(repo)
    check(rc == 0 and r is not None, f"scan runs ({err})")
    modes = {f["location"] for f in findings(r, "INTEGRITY-FILE-MODE")}
    check(modes == {"model.pkl", "setid.txt"}, f"executable data and set-uid reported, text script not: {modes}")
    lfs = findings(r, "INTEGRITY-LFS-POINTER", "pytorch_model.bin")
    check(len(lfs) == 1 and lfs[0]["severity"] == "Medium" and lfs[0]["type"] == "Missing Model Content",
          "LFS pointer is Missing Model Content")
    check(lfs and lfs[0]["details"].get("size") == 440473133 and lfs[0]["details"].get("oid_sha256") == oid,
          "LFS pointer details")
    prov = findings(r, "PROVENANCE-UNVERIFIED")
    check(len(prov) == 1 and prov[0]["details"].get("license") == "mit", "license from the card")
    check(not findings(r, "PROVENANCE-NO-LICENSE"), "no missing-license warning when declared")

    # --- manifest
    man = os.path.join(tmp, "SHA256SUMS")
    entries = {
        "model.pkl": hashlib.sha256(BENIGN).hexdigest(),
        "README.md": hashlib.sha256(b"tampered").hexdigest(),
        "missing.bin": "0" * 64,
    }
    with open(man, "w") as f:
        for k, v in entries.items():
            f.write(f"{v}  {k}\n")
    rc, r, err = scan(repo, "--manifest", man, "--no-hash")
    check(rc == 0, f"manifest scan runs ({err})")
    check([f["location"] for f in findings(r, "INTEGRITY-MISMATCH")] == ["README.md"], "manifest mismatch")
    check([f["location"] for f in findings(r, "INTEGRITY-MANIFEST-MISSING")] == ["missing.bin"], "manifest missing file")
    unl = sorted(f["location"] for f in findings(r, "INTEGRITY-MANIFEST-UNLISTED"))
    check(unl == ["pytorch_model.bin", "run.sh", "setid.txt"], f"unlisted files {unl}")
    check(all(f["sha256"] for f in r["files"]), "a manifest hashes files even with --no-hash")
    with open(man, "w") as f:
        f.write("not a manifest line\n")
    rc, r, err = scan(repo, "--manifest", man)
    check(rc == 2 and "line 1" in err and len(err.strip().splitlines()) == 1, f"malformed manifest: exit 2, one line ({err!r})")
    rc, r, err = scan(repo, "--manifest", os.path.join(tmp, "nope"))
    check(rc == 2, "missing manifest: exit 2")

    # --- no card: missing license warning
    bare = os.path.join(tmp, "bare")
    write(os.path.join(bare, "a.pkl"), BENIGN)
    rc, r, err = scan(bare)
    check(len(findings(r, "PROVENANCE-NO-LICENSE")) == 1, "missing card warned")
    write(os.path.join(bare, "README.md"), b"# no front matter\n")
    rc, r, err = scan(bare)
    nl = findings(r, "PROVENANCE-NO-LICENSE")
    check(len(nl) == 1 and nl[0]["location"] == "README.md" and nl[0]["severity"] == "Informational",
          "card without front matter warned")

    # --- git metadata
    gitrepo = os.path.join(tmp, "gitrepo")
    write(os.path.join(gitrepo, "a.pkl"), BENIGN)
    commit = "1234567890abcdef1234567890abcdef12345678"
    write(os.path.join(gitrepo, ".git", "HEAD"), b"ref: refs/heads/main\n")
    write(os.path.join(gitrepo, ".git", "refs", "heads", "main"), commit.encode() + b"\n")
    write(os.path.join(gitrepo, ".git", "config"),
          b'[core]\n\tbare = false\n[remote "origin"]\n\turl = https://user:secret@huggingface.co/org/model\n')
    write(os.path.join(gitrepo, ".git", "objects", "ab", "cdef"), b"\x78\x9c junk")
    rc, r, err = scan(gitrepo)
    d = findings(r, "PROVENANCE-UNVERIFIED")[0]["details"]
    check(d.get("git_commit") == commit, "git commit read")
    check(d.get("git_remote") == "https://huggingface.co/org/model", f"remote without credentials: {d.get('git_remote')}")
    check("secret" not in json.dumps(r), "credentials never in the report")
    check([f["path"] for f in r["files"]] == ["a.pkl"], "the .git folder is not scanned")

    # --- Hugging Face cache entry
    entry = os.path.join(tmp, "hub", "models--acme--tiny-model")
    old, new = "a" * 40, "b" * 40
    good = BENIGN
    lfs_blob = hashlib.sha256(good).hexdigest()
    cfg = b'{"model_type": "bert"}\n'
    cfg_blob = git_sha1(cfg)
    evil = pickle.dumps({"x": 1}, protocol=2)
    write(os.path.join(entry, "blobs", lfs_blob), good)
    write(os.path.join(entry, "blobs", cfg_blob), cfg)
    tampered_name = hashlib.sha256(b"original").hexdigest()
    write(os.path.join(entry, "blobs", tampered_name), evil)
    # dependency files: a different vulnerable pin in each revision
    req_old, req_new = b"transformers==4.30.0\n", b"transformers==4.31.0\n"
    write(os.path.join(entry, "blobs", git_sha1(req_old)), req_old)
    write(os.path.join(entry, "blobs", git_sha1(req_new)), req_new)
    write(os.path.join(entry, "refs", "main"), new.encode())
    for rev, files in ((old, {"model.pkl": tampered_name, "requirements.txt": git_sha1(req_old)}),
                       (new, {"model.pkl": lfs_blob, "config.json": cfg_blob,
                              "requirements.txt": git_sha1(req_new)})):
        snap = os.path.join(entry, "snapshots", rev)
        os.makedirs(snap, exist_ok=True)
        for name, blob in files.items():
            os.symlink(os.path.join("..", "..", "blobs", blob), os.path.join(snap, name))
    os.symlink("/etc/passwd", os.path.join(entry, "snapshots", new, "escape"))
    rc, r, err = scan(entry)
    check(rc == 0 and r["model_name"] == "acme/tiny-model", f"cache entry named after the repo ({err})")
    check(sorted(f["path"] for f in r["files"]) == ["config.json", "model.pkl", "requirements.txt"],
          "refs/main snapshot only")
    dv = findings(r, "DEPENDENCY-VULNERABLE")
    check(len(dv) == 1 and "4.31.0" in dv[0]["description"] and "4.30.0" not in dv[0]["description"],
          f"dependencies: only the scanned snapshot's pins are read: {[f['description'][:80] for f in dv]}")
    check([f["location"] for f in dv] == ["requirements.txt:1"],
          f"dependencies: located as the files are: {[f['location'] for f in dv]}")
    check(not findings(r, "INTEGRITY-MISMATCH"), "good blobs (sha256 and git sha1) pass")
    check([f["location"] for f in findings(r, "PATH-SYMLINK-ESCAPE")] == ["escape"], "escape from the cache entry reported")
    d = findings(r, "PROVENANCE-UNVERIFIED")[0]["details"]
    check(d.get("hf_cache_revision") == new and d.get("hf_cache_repo") == "acme/tiny-model", "cache revision reported")
    rc, r, err = scan(entry, "--all-snapshots")
    paths = sorted(f["path"] for f in r["files"])
    check(paths == sorted([f"{new}/config.json", f"{new}/model.pkl", f"{new}/requirements.txt",
                           f"{old}/model.pkl", f"{old}/requirements.txt"]), f"all snapshots: {paths}")
    dv = findings(r, "DEPENDENCY-VULNERABLE")
    check(sorted(f["location"] for f in dv) == [f"{old}/requirements.txt:1", f"{new}/requirements.txt:1"],
          f"all snapshots: every revision's pins, located as their files are: {[f['location'] for f in dv]}")
    mm = findings(r, "INTEGRITY-MISMATCH")
    check(len(mm) == 1 and mm[0]["location"] == f"{old}/model.pkl" and mm[0]["details"]["blob"] == tampered_name,
          "tampered sha256 blob reported")
    # a git-sha1 blob that was changed
    with open(os.path.join(entry, "blobs", cfg_blob), "wb") as f:
        f.write(b'{"model_type": "evil"}\n')
    rc, r, err = scan(entry)
    mm = findings(r, "INTEGRITY-MISMATCH")
    check(len(mm) == 1 and mm[0]["location"] == "config.json" and mm[0]["details"]["hash"] == "git blob sha1",
          "tampered git-sha1 blob reported")

    # --- secrets in model metadata (safetensors __metadata__, built by hand)
    import struct
    st_dir = os.path.join(tmp, "st")
    token = "hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789"
    hdr = {"__metadata__": {"format": "pt", "author": "bob@acme-labs.io", "hub_token": token},
           "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    write(os.path.join(st_dir, "model.safetensors"), struct.pack("<Q", len(h)) + h + bytes(8))
    rc, r, err = scan(st_dir)
    cred = findings(r, "SECRET-CREDENTIAL", "model.safetensors")
    check(len(cred) == 1 and "__metadata__" in cred[0]["description"], "token in safetensors metadata")
    check(len(findings(r, "SECRET-PERSONAL-DATA", "model.safetensors")) == 1, "e-mail in safetensors metadata")
    check(token not in json.dumps(r), "the token is redacted")
    # and in a pickle's string constants
    pk = os.path.join(tmp, "pk")
    write(os.path.join(pk, "training_args.bin"), pickle.dumps({"hub_token": token}, protocol=4))
    rc, r, err = scan(pk)
    cred = findings(r, "SECRET-CREDENTIAL", "training_args.bin")
    check(len(cred) == 1 and "string constants" in cred[0]["description"], "token in pickle constants")

finish()
