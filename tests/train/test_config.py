"""TrainConfig: the one source of `lvc train`'s settings."""

import pytest

from lvcodec.errors import ConfigError
from lvcodec.train.config import TrainConfig


def test_lvc_train_takes_its_defaults_from_trainconfig():
    from lvcodec.cli import train

    defaults = {p.name: p.default for p in train.params}
    config = TrainConfig()
    for name in ("stage", "frames", "batch", "patch", "lr", "warmup", "width", "latent", "init", "device", "precision",
                 "max_step", "affine"):
        assert defaults[name] == getattr(config, name), name


@pytest.mark.parametrize("changes, message", [
    ({}, "give --minutes or --steps"),
    ({"steps": 1, "stage": "intra", "motion_warmup": 5}, "--motion-warmup is for --stage inter"),
    ({"steps": 1, "stage": "bi", "joint": True}, "--joint is for --stage enhance"),
    ({"steps": 1, "stage": "gan"}, "no training stage 'gan'"),
    ({"steps": 1, "stage": "enhance", "block_map": True}, "--block-map is for --stage inter or bi"),
    ({"steps": 1, "frames": 40}, "--frames 40 out of range"),
    ({"steps": 1, "stage": "inter", "width": 96}, "--width is a positive channel count for --stage intra"),
    ({"steps": 1, "stage": "bi", "latent": 192}, "--latent is a positive channel count for --stage intra"),
])
def test_a_bad_training_config_is_refused_in_one_line(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes).validate()


def test_each_stage_has_its_own_default_run_directory():
    assert TrainConfig(stage="bi").run_dir().name == "bi"
    assert TrainConfig().run_dir().name == "intra"
