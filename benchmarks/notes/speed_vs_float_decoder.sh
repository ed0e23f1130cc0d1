#!/bin/bash
# Encode and decode wall-clock of three codecs on one clip, interleaved, one thread each, each
# through its own CLI (process start and model load included):
#   old   the float decoder before the exact decoding process: a checkout of 24f1a54^ (format 2,
#         its own shipped model), made with `git worktree add OLD 24f1a54^`;
#   new   this checkout (format 7.0);
#   nomo  this checkout without motion-only frames (what format 6.0's encoder sent).
#
#   OLD=../old-float CLIP=../shared/testset/bbb_sky_640x360.y4m \
#     OPTS="--frames 9 --gop 8 --downsample off -q 32" benchmarks/notes/speed_vs_float_decoder.sh
#
# Prints: round codec enc SECONDS dec SECONDS bytes N. Notes: speed-vs-float-decoder-2026-12-07.md.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OLD=$(cd "${OLD:?a checkout of 24f1a54^}" && pwd)
CLIP=$(realpath "${CLIP:?a clip}")
OPTS="${OPTS:---frames 9 --gop 8 --downsample off -q 32} --threads 1 --quiet -y"
PY=${PY:-$ROOT/.venv/bin/python}
TMP=$(mktemp -d)
for round in $(seq "${ROUNDS:-2}"); do
  for codec in old new nomo; do
    if [ $codec = old ]; then cd "$OLD"; export PYTHONPATH=$OLD; else cd "$ROOT"; unset PYTHONPATH; fi
    S=$TMP/$codec.lvc
    t0=$(date +%s.%N)
    if [ $codec = nomo ]; then
      $PY -c "import sys, lvcodec.codec.block_motion as b; b.MOTION_ONLY = False
from lvcodec.cli import main; sys.argv[0] = 'lvc'; main()" encode "$CLIP" "$S" $OPTS 2>/dev/null
    else
      $PY -m lvcodec encode "$CLIP" "$S" $OPTS 2>/dev/null
    fi
    t1=$(date +%s.%N)
    $PY -m lvcodec decode "$S" "$TMP/$codec.y4m" --threads 1 --quiet -y 2>/dev/null
    t2=$(date +%s.%N)
    echo "$round $codec enc $(echo "$t1-$t0" | bc) dec $(echo "$t2-$t1" | bc) bytes $(stat -c %s "$S")"
  done
done
rm -rf "$TMP"
