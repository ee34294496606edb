#!/bin/sh
# converts the checkpoint
exec python3 convert.py "$@"
