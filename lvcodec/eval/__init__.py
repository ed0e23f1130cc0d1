"""Evaluation: rate–distortion of lvc against conventional codecs.

metrics (PSNR), msssim, bdrate (BD-rate / BD-PSNR) are pure functions; anchors (x264, x265,
SVT-AV1, JPEG) and lvc_codec implement base.Codec; runner.evaluate measures, caches and reports;
cli.eval_command is `lvc eval`; bench and bench_intra are the `python -m` benchmark scripts.
Modules are imported on demand, so `import lvcodec.eval.metrics` stays light.
"""
