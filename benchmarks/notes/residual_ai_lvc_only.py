# The all-intra run of lvc bench residual with lvc alone, written to out/bench9/md (benchmarks/notes/residual-ai-2026-12-07.md).
import sys
import lvcodec.eval.bench_residual as br
br.RUNS["all-intra"]["variants"] = {"lvc": {}}
sys.argv = ["bench_residual", "../shared/testset", "--runs", "all-intra", "--out", "out/bench9/md"]
br.bench_residual.main(standalone_mode=True)
