"""The demo registry: a seeded multi-team history plus the demo's own real run outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from halfcost.governance._db import connect, describe_url, ensure_schema
from halfcost.governance._ingest import ingest_into
from halfcost.governance._queries import registry_is_empty
from halfcost.governance._seed import seed_history


def fill_demo_registry(
    db_url: str, *, runs: list[tuple[Path, str, str]], seed: int = 0
) -> dict[str, Any]:
    """Seed a history of several teams and ingest the demo's real runs into ``db_url``.

    Args:
        db_url: the registry to fill (seeded only when it holds nothing yet).
        runs: ``(path, project, team)`` of each real output folder or file to ingest
            (search and clean reports, event logs, dvc.lock...).
        seed: the history's random seed.

    Returns:
        ``{"db", "seeded": {counts...} | None, "ingested": [ingest results...]}``.
    """
    engine = connect(db_url)
    try:
        ensure_schema(engine)
        seeded = seed_history(engine, seed=seed) if registry_is_empty(engine) else None
        ingested = [
            ingest_into(engine, path, project=project, team=team).to_dict()
            for path, project, team in runs
        ]
        return {"db": describe_url(engine.url), "seeded": seeded, "ingested": ingested}
    finally:
        engine.dispose()
