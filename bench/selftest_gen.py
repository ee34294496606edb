#!/usr/bin/python3
"""Self-test of gen_big_pickle.py on small sizes (stdlib only, a few seconds).

    /usr/bin/python3 bench/selftest_gen.py

For both variants and a few sizes it checks that the output
  * is exactly the requested size, one pickle stream ending in STOP;
  * passes pickletools.dis (stack, MARK and memo consistency);
  * pickle.loads() to exactly the objects that an independent builder
    below makes, with the same sharing (same object for the shared dict keys,
    tag tuples, OrderedDict class and back-referenced names) in the memo
    variant and no sharing at all in the memo-free one;
  * agrees with its .json sidecar and with pickletools_walk.py on the
    opcode count, and only imports collections.OrderedDict;
  * is byte-identical when generated twice (deterministic).
"""

import collections
import hashlib
import io
import json
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_big_pickle as G  # noqa: E402

RING = 64


def reference(nrec):
    """The objects the generator should produce, built independently."""
    keys = ["id", "name", "score", "tags", "flag", "parent", "blob", "extra"]
    groups = ["group%d" % g for g in range(4)]
    tags = [("tag%02d" % t, groups[t % 4]) for t in range(64)]
    seeds = ["seed-%02d" % s for s in range(32)]
    header = tuple(keys + groups + tags + seeds +
                   [collections.OrderedDict, collections.OrderedDict()])
    ring = (seeds * 2)[:RING]
    pos = 0
    out = [header]
    lorem = [s.decode() for s in G.LOREM]
    for i in range(nrec):
        v = (i * 2654435761) & 0xFFFFFFFF
        k = v >> 29
        if k == 0:
            name = "item-%010d" % i
            out.append({"id": i, "name": name, "score": v / 65536.0, "tags": tags[v & 63],
                        "flag": bool(v & 1), "parent": ring[(v >> 6) % RING]})
            ring[pos] = name
            pos = (pos + 1) % RING
        elif k == 1:
            out.append((v & 0xFF, "t%08x" % v, i * 0.25))
        elif k == 2:
            out.append([v >> 16, v - (1 << 32) if v >= 1 << 31 else v,
                        (i << 40) | v, tags[(v >> 8) & 63], None])
        elif k == 3:
            blob = struct.pack("<IIII", i, v, v ^ 0xFFFFFFFF, i ^ v)
            out.append(collections.OrderedDict([("id", v & 0xFF), ("blob", blob)]))
        elif k == 4:
            out.append(ring[(v >> 12) % RING])
        elif k == 5:
            out.append({v & 0xFF, (v >> 8) & 0xFF, v >> 16})
        elif k == 6:
            out.append((v >> 24, None, {"extra": i}, "n%d" % i))
        else:
            out.append(lorem[v & 7] + " #%d" % i)
    return out


def check(path, size, memo):
    G.generate(path, size, memo, quiet=True)
    data = open(path, "rb").read()
    meta = json.load(open(path + ".json"))
    assert len(data) == size == meta["size"], (len(data), size)
    assert data[:2] == b"\x80\x04" and data[-1:] == b".", "not PROTO 4 ... STOP"

    # one stream, ends exactly at EOF, opcode count as in the sidecar
    ops = list(pickletools.genops(data))
    assert ops[-1][0].name == "STOP" and ops[-1][2] == size - 1
    assert len(ops) == meta["opcodes"], (len(ops), meta["opcodes"])
    names = collections.Counter(op.name for op, _, _ in ops)
    if memo:
        assert names["MEMOIZE"] == meta["memo_entries"]
        assert names["BINGET"] > 0 and names["LONG_BINGET"] > 0
        assert names["STACK_GLOBAL"] == 1 and names["GLOBAL"] == 1
    else:
        assert not (names["MEMOIZE"] or names["BINGET"] or names["LONG_BINGET"])
        assert names["STACK_GLOBAL"] == 1 + sum(
            1 for i in range(meta["records"] - 2)
            if ((i * 2654435761) & 0xFFFFFFFF) >> 29 == 3)
    assert names["FRAME"] == meta["frames"]
    for op, arg, _ in ops:
        if op.name == "GLOBAL":
            assert arg == "collections OrderedDict", arg
    pickletools.dis(data, out=io.StringIO())      # raises on stack/memo errors

    # round trip against the independent builder
    obj = pickle.loads(data)
    nrec = meta["records"] - 2
    want = reference(nrec)
    pad = obj[-1]
    assert isinstance(pad, str) and pad == "p" * len(pad)
    assert len(obj) == nrec + 2, (len(obj), nrec + 2)
    body = obj[:-1]
    if body != want:
        for j, (a, b) in enumerate(zip(body, want)):
            if a != b:
                raise AssertionError("element %d: %r != %r" % (j, a, b))
        raise AssertionError("length differs")
    # types too (== does not tell tuple from list, OrderedDict from dict)
    for a, b in zip(body, want):
        assert type(a) is type(b), (a, b)

    # sharing
    header = obj[0]
    keys, tags = header[:8], header[12:76]
    hdr_ids = {id(x) for x in header}
    shared = 0
    seen_names = {id(s) for s in header[76:108]}
    for x in body[1:]:
        if type(x) is dict and "name" in x:
            same = [any(k is h for h in keys) for k in x] + [x["tags"] is tags[int(x["tags"][0][3:])]]
            same.append(id(x["parent"]) in seen_names)
            assert all(same) if memo else not any(same), x
            seen_names.add(id(x["name"]))
            shared += 1
        elif type(x) is str and x.startswith(("item-", "seed-")):
            assert (id(x) in seen_names) == memo, x
        elif type(x) is collections.OrderedDict:
            assert all(any(k is h for h in keys) for k in x) == memo
    assert shared > 0
    assert (id(collections.OrderedDict) in hdr_ids)

    # pickletools_walk.py agrees
    r = subprocess.run([sys.executable, os.path.join(HERE, "pickletools_walk.py"), path],
                       capture_output=True, text=True, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "opcodes %d" % meta["opcodes"], lines
    assert lines[2:] == ["global collections OrderedDict"], lines
    return hashlib.sha256(data).hexdigest(), meta


def main():
    with tempfile.TemporaryDirectory() as d:
        for memo in (True, False):
            for size in (64 << 10, (64 << 10) + 1, 300 << 10, 3 << 20):
                p = os.path.join(d, "t.pkl")
                h1, meta = check(p, size, memo)
                h2, _ = check(p, size, memo)
                assert h1 == h2, "not deterministic"
                print("ok  %-8s %8d bytes  %7d records  %8d opcodes  %7d memo" % (
                    meta["variant"], size, meta["records"], meta["opcodes"],
                    meta["memo_entries"]))
    print("selftest_gen: all ok")


if __name__ == "__main__":
    main()
