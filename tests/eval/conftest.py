"""Tiny synthetic clips for the evaluation tests (content, not noise, so codecs behave normally)."""

import pytest

from lvcodec.eval.clips import make_clip
from eval_synth import synth_frames  # noqa: F401  (re-exported for fixtures)
from lvcodec.io import open_writer


@pytest.fixture()
def tiny_clip():
    return make_clip("tiny", synth_frames())


@pytest.fixture()
def tiny_y4m(tmp_path):
    frames = synth_frames()
    clip = make_clip("tiny", frames)
    path = tmp_path / "tiny_64x48.y4m"
    with open_writer(path, clip.info, overwrite=True) as w:
        for f in frames:
            w.write(f)
    return path
