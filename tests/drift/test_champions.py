"""Champions: the promotion rule, versioned folders and the atomically replaced pointer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from halfcost.drift import ChampionStore, Project
from halfcost.drift._champions import compare
from halfcost.errors import BadInputError


def _scores(**given):
    return {"challenger_holdout": None, **given}


def test_first_challenger_meeting_the_target_is_promoted():
    verdict = compare(
        _scores(challenger_holdout=0.81), metric="roc_auc", min_score=0.8, margin=0.01
    )
    assert verdict.promote
    assert "first champion" in verdict.reason
    assert verdict.scores["target"] == 0.8


def test_challenger_below_target_is_refused_even_without_champion():
    verdict = compare(
        _scores(challenger_holdout=0.78), metric="roc_auc", min_score=0.8, margin=0.01
    )
    assert not verdict.promote
    assert "below the target" in verdict.reason and "held-out" in verdict.reason
    # the target is met as the search defines it (in CV), and on held-out data within the margin
    assert compare(
        _scores(challenger_holdout=0.795, challenger_cv=0.81),
        metric="roc_auc",
        min_score=0.8,
        margin=0.01,
    ).promote
    in_cv = compare(
        _scores(challenger_holdout=0.85, challenger_cv=0.79),
        metric="roc_auc",
        min_score=0.8,
        margin=0.01,
    )
    assert not in_cv.promote and "cross-validation" in in_cv.reason


@pytest.mark.parametrize(
    ("challenger", "champion", "promote"),
    [(0.85, 0.86, True), (0.85, 0.85, True), (0.90, 0.85, True), (0.84, 0.86, False)],
)
def test_margin_on_held_out_data(challenger, champion, promote):
    verdict = compare(
        _scores(challenger_holdout=challenger, champion_holdout=champion),
        metric="accuracy",
        min_score=0.8,
        margin=0.01,
    )
    assert verdict.promote is promote
    if not promote:
        assert "by more than the margin" in verdict.reason


def test_worse_on_the_new_batch_is_refused():
    verdict = compare(
        _scores(
            challenger_holdout=0.9,
            champion_holdout=0.85,
            challenger_batch=0.70,
            champion_batch=0.80,
        ),
        metric="accuracy",
        min_score=0.8,
        margin=0.01,
    )
    assert not verdict.promote
    assert "new batch" in verdict.reason


def _fake_pipeline_outputs(root: Path, tag: str) -> Project:
    project = Project(root)
    (project.challenger_dir / "model").mkdir(parents=True, exist_ok=True)
    (project.challenger_dir / "model" / "meta.json").write_text(json.dumps({"tag": tag}))
    (project.challenger_dir / "report.json").write_text(json.dumps({"kind": "search"}))
    project.profile_path.mkdir(parents=True, exist_ok=True)
    (project.profile_path / "profile.json").write_text("{}")
    project.metrics_path.parent.mkdir(parents=True, exist_ok=True)
    project.metrics_path.write_text(json.dumps({"score": 0.9}))
    return project


def test_promote_creates_versions_and_swaps_the_pointer(tmp_path):
    project = _fake_pipeline_outputs(tmp_path, "first")
    store = ChampionStore(project)
    assert store.current() is None
    first = store.promote(data_version="abc", scores={"challenger_holdout": 0.9}, reason="r1")
    assert first["version"] == "v0001"
    assert json.loads(project.champion_pointer.read_text())["version"] == "v0001"

    _fake_pipeline_outputs(tmp_path, "second")
    second = store.promote(data_version="def", scores={"challenger_holdout": 0.91}, reason="r2")
    assert second["version"] == "v0002"
    assert second["previous"] == "v0001"
    assert store.versions() == ["v0001", "v0002"]
    assert store.current_version() == "v0002"
    # the old champion is kept, untouched
    old_meta = json.loads((store.model_dir("v0001") / "meta.json").read_text())
    assert old_meta == {"tag": "first"}
    assert json.loads((store.path("v0002") / "champion.json").read_text())["data_version"] == "def"
    assert (store.profile_path() / "profile.json").is_file()


def test_promote_without_pipeline_outputs_changes_nothing(tmp_path):
    project = _fake_pipeline_outputs(tmp_path, "first")
    store = ChampionStore(project)
    store.promote(data_version="abc", scores={}, reason="r1")
    shutil.rmtree(project.profile_path)
    with pytest.raises(BadInputError, match="dvc repro"):
        store.promote(data_version="def", scores={}, reason="r2")
    assert store.versions() == ["v0001"]
    assert store.current_version() == "v0001"


def test_a_crash_while_copying_leaves_the_champion_and_no_partial_version(tmp_path, monkeypatch):
    project = _fake_pipeline_outputs(tmp_path, "first")
    store = ChampionStore(project)
    store.promote(data_version="abc", scores={}, reason="r1")
    pointer_before = project.champion_pointer.read_bytes()

    real_copy2 = shutil.copy2

    def failing_copy2(src, dst, *args, **kwargs):
        if Path(dst).name == "metrics.json":
            raise OSError(28, "No space left on device")
        return real_copy2(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copy2", failing_copy2)
    with pytest.raises(OSError, match="No space"):
        store.promote(data_version="def", scores={}, reason="r2")
    assert project.champion_pointer.read_bytes() == pointer_before
    assert store.versions() == ["v0001"]
    assert [p.name for p in project.champions_dir.iterdir()] == ["v0001"]


def test_unreadable_pointer_is_a_clear_error(tmp_path):
    project = Project(tmp_path)
    project.state_dir.mkdir()
    project.champion_pointer.write_text("{not json")
    with pytest.raises(BadInputError, match="unreadable champion pointer"):
        ChampionStore(project).current()
    project.champion_pointer.write_text(json.dumps({"version": "v0007"}))
    with pytest.raises(BadInputError, match="v0007"):
        ChampionStore(project).current()
