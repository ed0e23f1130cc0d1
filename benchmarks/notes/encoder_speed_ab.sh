#!/bin/bash
# Encoder wall clock of two commits, interleaved, same machine and load: benchmarks/notes/encoder-speed-2026-12-07.md.
# Usage: git worktree add out/wt-old OLD_COMMIT; bash benchmarks/notes/encoder_speed_ab.sh
cd /work/main
export OMP_NUM_THREADS=1
for clip in bbb_closeup_640x360 pedestrians_480x360 foreman_176x144; do
  for side in old new; do
    if [ $side = old ]; then dir=/work/main/out/wt-old; else dir=/work/main; fi
    s=$(date +%s.%N)
    (cd $dir && PYTHONPATH=$dir /work/main/.venv/bin/python -c "import lvcodec,sys; assert lvcodec.__file__.startswith('$dir'), lvcodec.__file__; from lvcodec.cli import main; sys.argv=['lvc']+sys.argv[1:]; main()" encode /work/shared/testset/$clip.y4m /tmp/enc_$side.lvc -n 9 --gop 8 --threads 1 -y --quiet)
    e=$(date +%s.%N)
    echo "$clip $side $(echo "$e - $s" | bc) s $(stat -c %s /tmp/enc_$side.lvc) bytes $(sha256sum /tmp/enc_$side.lvc | cut -c1-16)"
  done
done
