"""`lvc train-all`: every stage within one budget, each exported into the next one's start."""

import pytest


@pytest.fixture()
def clip_dir(tmp_path, training_clip):
    return training_clip(tmp_path / "data", frames=5)


def test_train_all_runs_every_stage_and_exports_a_complete_model(clip_dir, tmp_path, monkeypatch,
                                                                  make_model):
    from lvcodec.train import schedule
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    make_model(models, name="lvc-start")
    monkeypatch.setenv("LVC_MODELS", str(models))
    # Small batches for the test; the budget logic is the real one.
    monkeypatch.setattr(schedule, "STAGES", tuple((s, f, share, 2, 2) for s, f, share, *_ in
                                                   schedule.STAGES))
    lines = []
    infos = schedule.train_all([clip_dir], tmp_path / "runs", models / "lvc-gpu", minutes=0.05,
                               init="lvc-start", log=lines.append)
    assert list(infos) == ["intra", "inter", "bi", "enhance"]
    model = load_model("lvc-gpu")
    assert None not in (model.inter, model.bi, model.enhance)
    for key in ("training", "training_inter", "training_bi", "training_enhance"):
        assert model.card[key]["steps"] >= 1, key
    assert sum("exported" in line for line in lines) == 4


def test_a_batch_halves_on_out_of_memory_and_gives_up_at_one():
    from lvcodec.train.trainer import BatchSize

    logged = []
    size = BatchSize(8, logged.append)
    assert [size.halve() for _ in range(4)] == [True, True, True, False]
    assert size.value == 1 and logged[-1] == "out of GPU memory: batch now 1"
