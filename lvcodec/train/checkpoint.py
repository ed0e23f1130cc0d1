"""Resumable training state in safetensors + JSON (no pickle anywhere)."""

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

__all__ = ["save_checkpoint", "load_checkpoint"]


def _optim_tensors(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{prefix}.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optim(opt, tensors: dict, meta: dict, prefix: str) -> None:
    state = {}
    for key, v in tensors.items():
        if not key.startswith(prefix + "."):
            continue
        _, pid, k = key.split(".", 2)
        state.setdefault(int(pid), {})[k] = v
    for key, v in meta["scalars"].items():
        pid, k = key.split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    try:
        opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except ValueError:  # the optimizer's parameter groups changed (a new training stage)
        return False
    return True


def save_checkpoint(run_dir: Path, net, optimizers: dict, info: dict) -> None:
    """Write run_dir/{net,optim}.safetensors + state.json atomically (tmp names, then rename)."""
    from lvcodec.weights import net_state

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    optim_tensors, optim_meta = {}, {}
    for name, opt in optimizers.items():
        t, m = _optim_tensors(opt, name)
        optim_tensors.update(t)
        optim_meta[name] = m
    save_file(net_state(net), str(run_dir / "net.safetensors.tmp"))
    save_file(optim_tensors, str(run_dir / "optim.safetensors.tmp"))
    (run_dir / "state.json.tmp").write_text(json.dumps(dict(info, optim=optim_meta), indent=1))
    for name in ("net.safetensors", "optim.safetensors", "state.json"):
        os.replace(run_dir / (name + ".tmp"), run_dir / name)


def load_checkpoint(run_dir: Path, net, optimizers: dict) -> dict | None:
    """Restore net and optimizers from run_dir; returns the saved info, or None if there is none."""
    from lvcodec.weights import load_net_state

    run_dir = Path(run_dir)
    if not (run_dir / "state.json").exists():
        return None
    info = json.loads((run_dir / "state.json").read_text())
    load_net_state(net, load_file(str(run_dir / "net.safetensors")))
    if not (run_dir / "optim.safetensors").exists():
        # A committed checkpoint carries the weights only (models/checkpoints/): Adam restarts.
        info["optim_reset"] = list(optimizers)
        return info
    tensors = load_file(str(run_dir / "optim.safetensors"))
    info["optim_reset"] = [name for name, opt in optimizers.items()
                           if name in info.get("optim", {})
                           and not _restore_optim(opt, tensors, info["optim"][name], name)]
    return info
