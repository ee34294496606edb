#!/usr/bin/python3
"""Generate a large, opcode-dense, benign pickle for benchmarking scanners.

Usage:
    gen_big_pickle.py OUT [--size 256M] [--no-memo]

The output is ONE valid protocol-4 pickle stream (PROTO 4, 64 KiB FRAMEs,
STOP at the end) whose top-level object is a long list of small objects:
dicts, tuples, lists, sets, OrderedDicts, short strings/bytes, ints of all
widths, floats, booleans and None.  It is written directly opcode by opcode,
the way CPython's C pickler lays it out (EMPTY_LIST MEMOIZE, then
MARK ... APPENDS batches of 1000), so the generator streams: it needs a few
MB of RAM whatever the size.

Variants:
  default    every container and string is memoized (MEMOIZE) and shared
             objects (dict keys, 64 tag tuples, the OrderedDict class,
             earlier records' names) are referenced with BINGET/LONG_BINGET,
             as pickle.dump() does.  The number of memo entries grows with
             the file (about 1.5 per record).
  --no-memo  what a Pickler with `fast = True` emits: no MEMOIZE and no
             BINGET at all; shared objects are written out again each time
             (so e.g. every OrderedDict gets its own STACK_GLOBAL).

Globals: only collections.OrderedDict, once through GLOBAL and through
STACK_GLOBAL (once in the default variant, once per OrderedDict record with
--no-memo).  Nothing dangerous.

The output is deterministic (no randomness, no timestamps) and its size is
exactly --size bytes (the last list element is a padding string).  It is
written to OUT.tmp and renamed to OUT when complete; a sidecar OUT.json
records size, variant, opcode and memo counts.

Stdlib only; runs with Debian's /usr/bin/python3.
"""

import argparse
import json
import os
import pickletools
import struct
import sys
import time

GEN_VERSION = 1
FRAME_TARGET = 64 * 1024      # same as CPython's pickle _FRAME_SIZE_TARGET
BATCH = 1000                  # same as CPython's pickle _BATCHSIZE
RING = 64                     # how many recent names records may point back to
MIN_SIZE = 64 * 1024

KEYS = (b"id", b"name", b"score", b"tags", b"flag", b"parent", b"blob", b"extra")
NTAGS = 64
NGROUPS = 4
NSEEDS = 32
LOREM = (
    b"lorem ipsum dolor sit amet",
    b"consectetur adipiscing elit",
    b"sed do eiusmod tempor",
    b"incididunt ut labore et dolore",
    b"magna aliqua ut enim ad minim",
    b"veniam quis nostrud exercitation",
    b"ullamco laboris nisi ut aliquip",
    b"ex ea commodo consequat",
)

_pack_I = struct.Struct("<I").pack
_pack_i = struct.Struct("<i").pack
_pack_H = struct.Struct("<H").pack
_pack_Q = struct.Struct("<Q").pack
_pack_d = struct.Struct(">d").pack          # BINFLOAT is big-endian
_pack_4I = struct.Struct("<IIII").pack


def parse_size(text):
    """'256M', '5m', '300K', '1G', '12345' -> bytes (K/M/G are binary units)."""
    t = text.strip().upper().rstrip("B").rstrip("I")
    mult = 1
    if t and t[-1] in "KMG":
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[t[-1]]
        t = t[:-1]
    try:
        n = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError("bad size %r (use e.g. 256M, 5M, 300K)" % text)
    if n < MIN_SIZE:
        raise argparse.ArgumentTypeError("size must be at least %d bytes" % MIN_SIZE)
    return n


def sbu(s):
    """SHORT_BINUNICODE s (s is utf-8 bytes, < 256 long)."""
    return b"\x8c" + bytes((len(s),)) + s


def get(idx):
    """BINGET / LONG_BINGET, as the C pickler chooses."""
    if idx < 256:
        return b"h" + bytes((idx,))
    return b"j" + _pack_I(idx)


def count_ops(fragment):
    """Number of opcodes in a fragment (measured once per record kind)."""
    return sum(1 for _ in pickletools.genops(fragment + b".")) - 1


class Generator:
    def __init__(self, memo):
        self.memo = memo
        self.M = b"\x94" if memo else b""
        self.m = 0                      # next memo index
        self.ops = 0                    # opcodes emitted

    # -- header element: a tuple holding the shared objects -----------------
    def header(self):
        """Bytes of the first list element; sets up the shared refs."""
        M = self.M
        out = [b"("]                      # MARK
        self.key = {}
        for k in KEYS:                  # dict keys, shared by all records
            out.append(sbu(k) + M)
            self.key[k] = get(self.m) if self.memo else sbu(k)
            self.m += self.memo
        group_ref = []
        for g in range(NGROUPS):
            s = b"group%d" % g
            out.append(sbu(s) + M)
            group_ref.append(get(self.m) if self.memo else sbu(s))
            self.m += self.memo
        self.tag = []                   # 64 shared ('tagNN', 'groupN') tuples
        for t in range(NTAGS):
            s = b"tag%02d" % t
            out.append(sbu(s) + M + group_ref[t % NGROUPS] + b"\x86" + M)   # TUPLE2
            if self.memo:
                self.tag.append(get(self.m + 1))
                self.m += 2
            else:
                self.tag.append(sbu(s) + sbu(b"group%d" % (t % NGROUPS)) + b"\x86")
        self.ring = []                  # refs to names records may point back to
        for s in range(NSEEDS):
            s = b"seed-%02d" % s
            out.append(sbu(s) + M)
            self.ring.append(get(self.m) if self.memo else sbu(s))
            self.m += self.memo
        while len(self.ring) < RING:
            self.ring.append(self.ring[len(self.ring) % NSEEDS])
        self.ring_pos = 0
        # collections.OrderedDict via STACK_GLOBAL (protocol 4 style)
        od_global = sbu(b"collections") + M + sbu(b"OrderedDict") + M + b"\x93" + M
        out.append(od_global)
        if self.memo:
            self.od = get(self.m + 2)
            self.m += 3
        else:
            self.od = sbu(b"collections") + sbu(b"OrderedDict") + b"\x93"
        # ... and via GLOBAL (protocol 0-3 style): an empty OrderedDict()
        out.append(b"ccollections\nOrderedDict\n" + M + b")R" + M)
        self.m += 2 * self.memo
        out.append(b"t" + M)              # TUPLE
        self.m += self.memo
        data = b"".join(out)
        self.ops += count_ops(data)
        return data

    # -- the records ---------------------------------------------------------
    def builders(self):
        """Return a list of 8 record builders f(i, v) -> bytes."""
        M = self.M
        memo = self.memo
        key = self.key
        kid, kname, kscore, ktags, kflag, kparent, kblob, kextra = (key[k] for k in KEYS)
        tag = self.tag
        ring = self.ring
        od = self.od
        gen = self
        join = b"".join

        def k0_dict(i, v):
            # {'id': i, 'name': 'item-..', 'score': f, 'tags': <shared tuple>,
            #  'flag': bool, 'parent': <earlier name>}
            name = b"item-%010d" % i
            pos = gen.ring_pos
            rec = join((b"}", M, b"(", kid, b"J", _pack_i(i & 0x7FFFFFFF),
                        kname, b"\x8c", bytes((len(name),)), name, M,
                        kscore, b"G", _pack_d(v / 65536.0),
                        ktags, tag[v & 63],
                        kflag, b"\x88" if v & 1 else b"\x89",
                        kparent, ring[(v >> 6) & (RING - 1)],
                        b"u"))
            if memo:
                ring[pos] = get(gen.m + 1)
                gen.m += 2
            else:
                ring[pos] = sbu(name)
            gen.ring_pos = (pos + 1) & (RING - 1)
            return rec

        def k1_tuple(i, v):
            # (v & 0xff, 't%08x' % v, i * 0.25)
            s = b"t%08x" % v
            rec = join((b"K", bytes((v & 0xFF,)), b"\x8c", bytes((len(s),)), s, M,
                        b"G", _pack_d((i & 0x3FFFFFFF) * 0.25), b"\x87", M))
            gen.m += 2 * memo
            return rec

        def k2_list(i, v):
            # [v >> 16, signed(v), big int, <shared tuple>, None]
            big = ((i & 0x3FFFFFFF) << 40) | v
            rec = join((b"]", M, b"(", b"M", _pack_H(v >> 16), b"J", _pack_I(v),
                        b"\x8a\x09", big.to_bytes(9, "little", signed=True),
                        tag[(v >> 8) & 63], b"N", b"e"))
            gen.m += memo
            return rec

        def k3_odict(i, v):
            # OrderedDict(id=v & 0xff, blob=<16 bytes>)
            rec = join((od, b")R", M, b"(", kid, b"K", bytes((v & 0xFF,)),
                        kblob, b"C\x10", _pack_4I(i & 0xFFFFFFFF, v, v ^ 0xFFFFFFFF,
                                                    (i ^ v) & 0xFFFFFFFF), M,
                        b"u"))
            gen.m += 2 * memo
            return rec

        def k4_shared(i, v):
            # the very object that an earlier record holds (a name string)
            return ring[(v >> 12) & (RING - 1)]

        def k5_set(i, v):
            # {v & 0xff, (v >> 8) & 0xff, v >> 16}
            rec = join((b"\x8f", M, b"(", b"K", bytes((v & 0xFF,)),
                        b"K", bytes(((v >> 8) & 0xFF,)), b"M", _pack_H(v >> 16),
                        b"\x90"))
            gen.m += memo
            return rec

        def k6_nested(i, v):
            # (v >> 24, None, {'extra': i}, 'n<i>')
            s = b"n%d" % i
            rec = join((b"(", b"K", bytes((v >> 24,)), b"N",
                        b"}", M, kextra, b"J", _pack_i(i & 0x7FFFFFFF), b"s",
                        b"\x8c", bytes((len(s),)), s, M, b"t", M))
            gen.m += 3 * memo
            return rec

        def k7_text(i, v):
            s = LOREM[v & 7] + b" #%d" % i
            rec = join((b"\x8c", bytes((len(s),)), s, M))
            gen.m += memo
            return rec

        return [k0_dict, k1_tuple, k2_list, k3_odict, k4_shared, k5_set, k6_nested, k7_text]


def generate(path, size, memo, quiet=False):
    t0 = time.time()
    g = Generator(memo)

    tmp = path + ".tmp"
    f = open(tmp, "wb", buffering=0)
    f.write(b"\x80\x04")                # PROTO 4 (outside any frame, like CPython)
    g.ops += 1
    written = 2
    frames = 0
    buf = [b"]" + g.M]                  # EMPTY_LIST MEMOIZE: the top-level list
    g.ops += 1 + memo
    g.m += memo
    blen = len(buf[0])

    # first batch: MARK, header element
    hdr = g.header()
    builders = g.builders()             # needs the shared refs set up by header()
    kind_ops = [None] * len(builders)
    buf.append(b"(" + hdr)
    g.ops += 1
    blen += 1 + len(hdr)
    batch_n = 1
    nrec = 0

    # room kept for: the frame header of the last frame (9), the largest record
    # (< 200), a batch MARK/APPENDS, the padding element and STOP.
    reserve = 9 + 256 + 2 + 8 + 1
    limit = size - reserve
    append = buf.append
    i = 0
    next_report = 1 << 26
    while written + blen < limit:
        v = (i * 2654435761) & 0xFFFFFFFF
        k = v >> 29
        rec = builders[k](i, v)
        if kind_ops[k] is None:
            kind_ops[k] = count_ops(rec)
        g.ops += kind_ops[k]
        i += 1
        if batch_n == 0:
            append(b"(")                # MARK
            blen += 1
            g.ops += 1
        append(rec)
        blen += len(rec)
        batch_n += 1
        if batch_n == BATCH:
            append(b"e")                # APPENDS
            blen += 1
            g.ops += 1
            batch_n = 0
        if blen >= FRAME_TARGET:
            f.write(b"\x95" + _pack_Q(blen) + b"".join(buf))
            g.ops += 1
            frames += 1
            written += 9 + blen
            buf.clear()
            blen = 0
            if not quiet and written >= next_report:
                next_report += 1 << 26
                sys.stderr.write("  %d MB ...\n" % (written >> 20))
    nrec = i

    # Last frame: [MARK] padding-string [MEMOIZE] APPENDS STOP, sized so that the
    # file is exactly `size` bytes.  BINUNICODE takes any length.
    tail_fixed = (0 if batch_n else 1) + 5 + len(g.M) + 1 + 1
    pad_len = size - (written + 9 + blen + tail_fixed)
    assert pad_len >= 0, pad_len
    tail = []
    if batch_n == 0:
        tail.append(b"(")
        g.ops += 1
    tail.append(b"X" + _pack_I(pad_len) + b"p" * pad_len + g.M + b"e.")
    g.ops += 1 + memo + 2
    g.m += memo
    tail = b"".join(tail)
    buf.append(tail)
    blen += len(tail)
    f.write(b"\x95" + _pack_Q(blen) + b"".join(buf))
    g.ops += 1
    frames += 1
    written += 9 + blen
    f.close()
    assert written == size == os.path.getsize(tmp), (written, size)

    meta = {
        "generator": "gen_big_pickle.py",
        "generator_version": GEN_VERSION,
        "variant": "memo" if memo else "no-memo",
        "size": size,
        "records": nrec + 2,           # + header tuple + padding string
        "opcodes": g.ops,
        "memo_entries": g.m,
        "frames": frames,
        "globals": ["collections.OrderedDict"],
    }
    with open(tmp + ".json", "w") as jf:
        json.dump(meta, jf, indent=1)
        jf.write("\n")
    os.replace(tmp, path)
    os.replace(tmp + ".json", path + ".json")
    meta["seconds"] = round(time.time() - t0, 2)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output path (OUT.json gets the metadata)")
    ap.add_argument("size", nargs="?", type=parse_size, default=None,
                    help="exact output size, e.g. 256M (default), 5M, 300K, 1G")
    ap.add_argument("--size", dest="size_opt", type=parse_size, default=None,
                    help="same as the positional size")
    ap.add_argument("--no-memo", action="store_true",
                    help="no MEMOIZE/BINGET at all (like Pickler.fast = True)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    size = a.size_opt or a.size or (256 << 20)
    meta = generate(a.out, size, memo=not a.no_memo, quiet=a.quiet)
    if not a.quiet:
        sys.stderr.write("wrote %s: %d bytes, %d records, %d opcodes, %d memo entries, "
                         "%d frames in %.1f s\n" % (a.out, meta["size"], meta["records"],
                                                    meta["opcodes"], meta["memo_entries"],
                                                    meta["frames"], meta["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
