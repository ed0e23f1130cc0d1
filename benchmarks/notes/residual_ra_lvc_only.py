# The random-access run of lvc bench residual with lvc alone (its --no-block-motion ablation left
# for a later run), written to out/bench8/md so benchmarks/residual.md is not half-replaced.
import sys
import lvcodec.eval.bench_residual as br
br.RUNS["random access"]["variants"] = {"lvc": {}}
sys.argv = ["bench_residual", "../shared/testset", "--runs", "random access", "--out", "out/bench8/md"]
br.bench_residual.main(standalone_mode=True)
