"""Model files: models/NAME.safetensors (weights) + models/NAME.json (model card), hash-checked."""

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from compressai.entropy_models import EntropyBottleneck
from safetensors.torch import load_file, save_file

from lvcodec.errors import ModelError
from lvcodec.nets.bi import BiNet
from lvcodec.nets.enhance import EnhanceNet
from lvcodec.nets.inter import InterNet
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.state import load_net_state, net_state
from lvcodec.rd import LEGACY_LAMBDA_RANGE

__all__ = ["Model", "DEFAULT_MODEL", "models_dir", "load_model", "save_model", "list_models",
           "file_sha256", "net_state", "load_net_state"]

DEFAULT_MODEL = "lvc-base"


def models_dir() -> Path:
    """Shipped models live in the repository's models/ (overridable by LVC_MODELS)."""
    env = os.environ.get("LVC_MODELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Model:
    """A loaded model bundle: its nets, its name and the sha256 of its weights file."""

    name: str
    sha256: str
    intra: IntraNet
    card: dict = field(default_factory=dict)
    inter: InterNet | None = None  # P frames; a model without one codes all-intra only
    bi: BiNet | None = None  # B frames; a model without one codes low-delay only
    enhance: EnhanceNet | None = None  # half-scale B frames; without it, every frame at full scale

    @property
    def lambda_range(self) -> tuple:
        """The lambda(q) range the nets were trained for (cards before it was recorded: legacy)."""
        return tuple(self.card.get("lambda_range", LEGACY_LAMBDA_RANGE))

    def to(self, device) -> "Model":
        for net in (self.intra, self.inter, self.bi, self.enhance):
            if net is not None:
                net.to(device)
        return self


def _resolve(name_or_path: str) -> tuple[Path, Path]:
    p = Path(name_or_path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    if not p.parent.parts or str(p.parent) == ".":
        if not (p.with_suffix(".json")).exists():
            p = models_dir() / p.name
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def list_models() -> list[dict]:
    cards = []
    for card_path in sorted(models_dir().glob("*.json")):
        try:
            cards.append(json.loads(card_path.read_text()))
        except (OSError, ValueError):
            continue
    return cards


def load_model(name_or_path: str = DEFAULT_MODEL, device="cpu") -> Model:
    """Load a model by name (models/NAME) or path, refusing weights whose hash is not the card's."""
    weights, card_path = _resolve(name_or_path)
    if not card_path.exists() or not weights.exists():
        raise ModelError(f"model '{name_or_path}' not found (looked for {weights} and {card_path})")
    try:
        card = json.loads(card_path.read_text())
    except ValueError as e:
        raise ModelError(f"{card_path}: model card is not valid JSON ({e})") from None
    sha = file_sha256(weights)
    if card.get("sha256") != sha:
        raise ModelError(f"{weights}: sha256 {sha[:16]}… does not match its model card "
                         f"({str(card.get('sha256'))[:16]}…); refusing to load it")
    try:
        state = load_file(str(weights))
    except Exception as e:  # safetensors raises its own error types
        raise ModelError(f"{weights}: not a readable safetensors file ({e})") from None
    def part(prefix):
        return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}

    nets = {}
    try:
        for key, cls in (("intra", IntraNet), ("inter", InterNet), ("bi", BiNet),
                         ("enhance", EnhanceNet)):
            if key in card["config"]:
                nets[key] = cls(**card["config"][key])
    except (KeyError, TypeError) as e:
        raise ModelError(f"{card_path}: model card has no usable architecture config ({e})") from None
    if "intra" not in nets:
        raise ModelError(f"{card_path}: model card has no intra net")
    for key, net in nets.items():
        load_net_state(net, part(f"{key}."))
        net.eval()
    return Model(name=card.get("name", weights.stem), sha256=sha, card=card, **nets).to(device)


def save_model(path_stem: Path, intra: IntraNet, card: dict, dtype=torch.float16,
               inter: InterNet | None = None, bi: BiNet | None = None,
               enhance: EnhanceNet | None = None) -> str:
    """Write NAME.safetensors and NAME.json; returns the weights' sha256.

    The factorized prior's integer tables are frozen first, on the CPU, so every decoder uses the
    very tables the encoder used.
    """
    state = {}
    nets = {"intra": intra, "inter": inter, "bi": bi, "enhance": enhance}
    for prefix, net in nets.items():
        if net is None:
            continue
        net = net.cpu().eval()
        # Round the weights to the shipped precision first, so the tables match the shipped weights.
        load_net_state(net, net_state(net, dtype))
        for module in net.modules():
            if isinstance(module, EntropyBottleneck):
                module.update(force=True)
        state.update({f"{prefix}.{k}": v for k, v in net_state(net, dtype).items()})
    weights = Path(path_stem).with_suffix(".safetensors")
    weights.parent.mkdir(parents=True, exist_ok=True)
    # One metadata entry: safetensors writes the metadata map in hash order, which varies from
    # process to process, so two entries made the same weights hash differently on re-export.
    save_file(state, str(weights), metadata={"lvc-model": Path(path_stem).name})
    sha = file_sha256(weights)
    card = dict(card, sha256=sha, name=Path(path_stem).name)
    card["config"] = {key: net.config for key, net in nets.items() if net is not None}
    Path(path_stem).with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return sha
