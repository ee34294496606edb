#!/usr/bin/python3
"""Writes a PyTorch checkpoint of about SIZE_MB megabytes (one float32 tensor
plus a few small ones) in the zip format and in the legacy format, with
Debian's python3-torch, for the weight-size part of the benchmark.

usage: gen_checkpoint.py OUT_DIR SIZE_MB
Writes OUT_DIR/ckpt-zip-<SIZE>M.pt and OUT_DIR/ckpt-legacy-<SIZE>M.pt
(skipped when present with the right name). Deterministic contents.
"""
import os
import sys

import torch


def main():
    out, size_mb = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    n = size_mb * (1 << 20) // 4
    state = None
    for kind, new_zip in (("zip", True), ("legacy", False)):
        path = os.path.join(out, f"ckpt-{kind}-{size_mb}M.pt")
        if os.path.exists(path):
            continue
        if state is None:
            big = torch.empty(n, dtype=torch.float32)
            big.fill_(0.5)
            state = {"encoder.weight": big, "encoder.bias": torch.zeros(16),
                     "head.weight": torch.ones(4, 16), "epoch_marker": torch.tensor([7])}
        tmp = path + ".tmp"
        torch.save(state, tmp, _use_new_zipfile_serialization=new_zip)
        os.replace(tmp, path)
        print(path)


if __name__ == "__main__":
    main()
