"""Champions: versioned model folders outside the pipeline's outputs, and atomic promotion.

DVC deletes a stage's outputs before it reruns the stage, so the model in service must
never live in one. A promoted challenger is copied into ``.halfcost/champions/vNNNN/``
(model, search report, reference profile folder, held-out metrics, and ``champion.json`` saying
why), and the small pointer ``.halfcost/champion.json`` names the current version. The
pointer is replaced with one ``os.replace``: a reader sees the old champion or the new
one, never a mix, and a crash mid-promotion leaves at worst an unused version folder.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from halfcost.drift._project import Project
from halfcost.errors import BadInputError
from halfcost.jsonio import write_json

_VERSION = re.compile(r"^v(\d{4,})$")
# Files of the search stage's output copied with the model; the Optuna study is left out.
_CHALLENGER_FILES = ("report.json", "report.html")


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing a challenger with the champion.

    Attributes:
        promote: True when the challenger should become the champion.
        reason: one sentence saying why, with the scores.
        scores: every score compared (``challenger_holdout``, ``champion_holdout``,
            ``challenger_batch``, ``champion_batch``, ``target``, ``margin``).
    """

    promote: bool
    reason: str
    scores: dict[str, float] = field(default_factory=dict)


def compare(
    scores: dict[str, float | None], *, metric: str, min_score: float, margin: float
) -> Verdict:
    """Decide whether a challenger replaces the champion (all metrics: greater is better).

    The challenger must meet ``min_score`` as the search defines it (in cross-validation,
    ``challenger_cv``) and come within ``margin`` of it on the held-out data, and it must
    be worse than the champion by at most ``margin`` on the same held-out data, and on
    the held-out rows of the new labelled batch when those were scored. With no champion
    yet, meeting the target is enough.

    Args:
        scores: ``challenger_holdout`` (required), ``challenger_cv``, ``champion_holdout``,
            ``challenger_batch``, ``champion_batch`` (None or missing when not scored).
        metric: the metric's name, for the reason.
        min_score: the target (``search.min_score``).
        margin: ``promotion.margin``.
    """
    challenger = scores.get("challenger_holdout")
    kept = {k: float(v) for k, v in scores.items() if v is not None}
    kept.update(target=float(min_score), margin=float(margin))
    if challenger is None:
        return Verdict(
            False, "the challenger has no held-out score; the retrain is incomplete.", kept
        )
    cv = scores.get("challenger_cv")
    if cv is not None and cv < min_score:
        return Verdict(
            False,
            f"challenger {metric} {cv:.4f} in cross-validation is below the target "
            f"{min_score:.4f}.",
            kept,
        )
    if challenger < min_score - margin:
        return Verdict(
            False,
            f"challenger {metric} {challenger:.4f} on held-out data is below the target "
            f"{min_score:.4f} by more than the margin {margin:g}.",
            kept,
        )
    met = f"meets the target {min_score:.4f}" + (
        f" ({cv:.4f} in cross-validation)" if cv is not None else ""
    )
    champion = scores.get("champion_holdout")
    if champion is None:
        return Verdict(
            True, f"first champion: {metric} {challenger:.4f} on held-out data; {met}.", kept
        )
    for where, ours, theirs in (
        ("held-out data", challenger, champion),
        (
            "the new batch's held-out rows",
            scores.get("challenger_batch"),
            scores.get("champion_batch"),
        ),
    ):
        if ours is not None and theirs is not None and ours < theirs - margin:
            return Verdict(
                False,
                f"challenger {metric} {ours:.4f} on {where} is worse than the champion's "
                f"{theirs:.4f} by more than the margin {margin:g}.",
                kept,
            )
    batch = ""
    if scores.get("challenger_batch") is not None and scores.get("champion_batch") is not None:
        batch = (
            f", {scores['challenger_batch']:.4f} vs {scores['champion_batch']:.4f} on the new "
            "batch's held-out rows"
        )
    return Verdict(
        True,
        f"challenger {metric} {challenger:.4f} vs champion {champion:.4f} on held-out data"
        f"{batch}: {met} and is within the margin {margin:g}.",
        kept,
    )


class ChampionStore:
    """The champions of one project: versioned folders plus an atomically replaced pointer.

    Args:
        project: the project whose ``.halfcost/`` holds the champions.
    """

    def __init__(self, project: Project) -> None:
        self.project = project

    @property
    def root(self) -> Path:
        return self.project.champions_dir

    def versions(self) -> list[str]:
        """Every complete version folder, oldest first (``v0001``, ``v0002``, ...)."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda name: int(name[1:]))

    def next_version(self) -> str:
        """The version a promotion would create now."""
        versions = self.versions()
        number = int(versions[-1][1:]) + 1 if versions else 1
        return f"v{number:04d}"

    def current(self) -> dict[str, Any] | None:
        """The pointer's content (``version``, ``path``, ``promoted_at``, ...), or None.

        Raises:
            BadInputError: the pointer exists but is unreadable or names a missing folder.
        """
        import json

        pointer = self.project.champion_pointer
        if not pointer.is_file():
            return None
        try:
            data = json.loads(pointer.read_text(encoding="utf-8"))
            version = str(data["version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInputError(
                f"{pointer}: unreadable champion pointer; restore it from a version in "
                f'{self.root} (write {{"version": "vNNNN"}}).'
            ) from exc
        if not (self.root / version).is_dir():
            raise BadInputError(
                f"{pointer}: names {version}, but {self.root / version} is missing; "
                "point it at an existing version."
            )
        return data

    def current_version(self) -> str | None:
        """The current champion's version, or None before the first promotion."""
        current = self.current()
        return None if current is None else str(current["version"])

    def path(self, version: str | None = None) -> Path | None:
        """The folder of ``version`` (default: the current champion), or None."""
        version = version or self.current_version()
        return None if version is None else self.root / version

    def model_dir(self, version: str | None = None) -> Path | None:
        """The saved model of ``version`` (default: the current champion)."""
        path = self.path(version)
        return None if path is None else path / "model"

    def profile_path(self, version: str | None = None) -> Path | None:
        """The reference profile saved with ``version`` (default: the current champion)."""
        path = self.path(version)
        return None if path is None else path / "profile"

    def promote(
        self,
        *,
        data_version: str | None,
        scores: dict[str, float],
        reason: str,
        batch: str | None = None,
    ) -> dict[str, Any]:
        """Copy the project's challenger into a new version folder and point to it.

        The copy goes to a hidden folder first and is renamed into place; the pointer
        is then replaced with ``os.replace``. Returns the new pointer's content.

        Raises:
            BadInputError: the pipeline's outputs (challenger model, profile) are missing.
        """
        project = self.project
        sources = {
            "model": project.challenger_dir / "model",
            "profile": project.profile_path,
            "metrics.json": project.metrics_path,
        }
        missing = [str(p) for p in sources.values() if not p.exists()]
        if missing:
            raise BadInputError(
                f"cannot promote: {', '.join(missing)} missing; run `dvc repro` in "
                f"{project.root} first."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        version = self.next_version()
        staging = self.root / f".incoming-{version}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            shutil.copytree(sources["model"], staging / "model")
            shutil.copytree(sources["profile"], staging / "profile")
            shutil.copy2(sources["metrics.json"], staging / "metrics.json")
            for name in _CHALLENGER_FILES:
                if (project.challenger_dir / name).is_file():
                    shutil.copy2(project.challenger_dir / name, staging / name)
            record = {
                "version": version,
                "path": f"champions/{version}",
                "promoted_at": datetime.now(UTC).isoformat(),
                "previous": self.current_version(),
                "data_version": data_version,
                "batch": batch,
                "scores": scores,
                "reason": reason,
            }
            write_json(record, staging / "champion.json")
            os.rename(staging, self.root / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        write_json(record, project.champion_pointer)  # temp file + os.replace
        return record
