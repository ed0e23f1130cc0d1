"""Would quantisation-aware training on the exact decoder's grids change anything? (issue 20)

The exact decoding process (docs/bitstream.md §9, nets/numerics.py) rounds every convolution's
input to a 24-bit block floating-point grid and its weights to 15-24 bits per output channel.
Training runs the nets' forward and backward in bf16 (8 significant bits). This script measures,
on the intra net and training patches, how far each moves the training loss and the picture from
the float32 forward on the same batch and the same noise draw:

- bf16: the forward training computes (autocast + channels_last, as `lvc train` runs on a CPU
  with native bf16);
- grids: float32 with the exact decoder's roundings applied (weights rounded per output channel
  to the exact twin's bits, every convolution's and GDN's input rounded to ACT_BITS per sample).

If the grids move the loss orders of magnitude less than bf16 does, fake-quantising to them in a
training stage changes nothing the optimiser can see.

    python benchmarks/notes/exact_grids_vs_bf16.py out/train-data [--batches 8]
"""

import math
import statistics
import sys

import torch
import torch.nn as nn
from compressai.layers import GDN

from lvcodec.nets import numerics
from lvcodec.nets.intra import IntraNet
from lvcodec.train.data import IntraPatches, load_frames
from lvcodec.train.loss import rd_loss
from lvcodec.train.precision import choose_precision
from lvcodec.weights import load_model, load_net_state, net_state


def _on_grid(t):
    if torch.is_tensor(t) and t.dim() == 4:
        i, s = numerics.block_round(t, numerics.ACT_BITS)
        return (i * s).to(t.dtype)
    return t


def grids(net: nn.Module) -> nn.Module:
    for m in net.modules():
        if type(m) is nn.Conv2d:
            w = m.weight.detach().double()
            n = w.shape[1] * w.shape[2] * w.shape[3]
            bits = min(numerics.MAX_WEIGHT_BITS,
                       numerics.SUM_BITS - numerics.ACT_BITS - math.ceil(math.log2(n + 1)))
            w_int, w_scale = numerics.block_round(w, bits)
            m.weight.data = (w_int * w_scale).float()
        if type(m) is nn.Conv2d or isinstance(m, GDN):
            m.register_forward_pre_hook(lambda _m, args: tuple(_on_grid(a) for a in args))
    return net


def main(data_dir, batches):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    frames, sources = load_frames([data_dir], with_sources=True)
    data = IntraPatches(frames, patch=128, seed=3, sources=sources)
    bf16 = choose_precision("cpu")
    if bf16.dtype is None:
        sys.exit("this CPU has no native bf16: training would run in float32")

    def forward(kind, x, q, seed):
        net = IntraNet(**model.intra.config)
        load_net_state(net, net_state(model.intra))
        net.train()
        if kind == "grids":
            grids(net)
        if kind == "bf16":
            bf16.module(net)
            x = bf16.tensor(x)
        torch.manual_seed(seed)  # the same additive-noise draw in every forward
        with torch.no_grad(), \
                bf16.autocast("cpu") if kind == "bf16" else torch.autocast("cpu", enabled=False):
            out = net(x, q)
        terms = rd_loss(out, x.float(), q, model.lambda_range)
        return float(terms["loss"]), out["x_hat"].float()

    rows = {"bf16": [], "grids": []}
    q = torch.arange(0, 64, 8).float()  # one patch per eighth of the quality range
    for b in range(batches):
        x = data.batch(8)
        loss, x_hat = forward("fp32", x, q, b)
        for kind in rows:
            l_k, x_k = forward(kind, x, q, b)
            rows[kind].append((abs(l_k / loss - 1) * 100, float((x_k - x_hat).abs().mean() * 255),
                               float((x_k - x_hat).abs().max() * 255)))
    print(f"model {model.name}@{model.sha256[:16]}, intra net, {batches} batches of 8x128^2, "
          f"q 0..56 (one patch each), bf16 via {bf16.reason}")
    print("| forward | mean |loss change| vs float32 | mean |picture change| (8-bit levels) | "
          "largest |picture change| |")
    print("|---|---:|---:|---:|")
    for kind, r in rows.items():
        print(f"| {kind} | {statistics.mean(t[0] for t in r):.2e} % | "
              f"{statistics.mean(t[1] for t in r):.2e} | {max(t[2] for t in r):.2e} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], int(args[args.index("--batches") + 1]) if "--batches" in args else 8)
