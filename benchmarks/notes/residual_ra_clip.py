# One test clip through the random-access run of lvc bench residual, lvc alone
# (benchmarks/notes/residual-ra-2026-12-07b.md). out/ts/CLIP/ holds only a link to the clip:
#   mkdir -p out/ts/C && ln -s $PWD/../shared/testset/C.y4m out/ts/C/
import sys
import lvcodec.eval.bench_residual as br
br.RUNS["random access"]["variants"] = {"lvc": {}}
clip = sys.argv[1]
sys.argv = ["bench_residual", f"out/ts/{clip}", "--runs", "random access", "--out", f"out/bench9/ra-{clip}"]
br.bench_residual.main(standalone_mode=True)
