"""Writing a cleaning run to a folder: the two tables, report.json, report.html, suite.json."""

from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path
from typing import Any

import pandas as pd

from halfcost.automl._clean import CleanResult
from halfcost.automl._clean_profile import save_suite, suite_columns
from halfcost.automl._clean_text import readable
from halfcost.jsonio import write_json
from halfcost.tables import read_table, table_suffix, write_table

HTML_ROWS = 50


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes (read in chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_exact_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table for cleaning without changing a value: a CSV as text, a Parquet as is.

    A CSV is read with ``dtype=str, keep_default_na=False``: ``02134`` keeps its zero,
    ``35233`` does not become ``35233.0``, an empty cell stays ``""``. Parsing for
    validation happens on a copy (:func:`~halfcost.automl.clean_frame`).

    Raises:
        BadInputError: the file is missing, unreadable, of another type, or has no rows.
    """
    return read_table(path, as_text=True)


def storable(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """``frame`` with mixed-type text columns as text, which Parquet can store.

    Quarantined rows keep their raw values, so a numeric column can hold numbers and a
    garbage string side by side; CSV writes that as is, Parquet needs one type a column.
    """
    if suffix != ".parquet":
        return frame
    out = frame
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_object_dtype(series):
            kinds = series.dropna().map(type).unique()
            if len(kinds) > 1:
                if out is frame:
                    out = frame.copy()
                out[column] = series.map(lambda v: v if v is None or v != v else str(v))
    return out


def write_clean_outputs(
    result: CleanResult,
    out_dir: str | os.PathLike[str],
    *,
    suite: Any,
    suffix: str = ".csv",
    data_path: str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Write ``clean<suffix>``, ``quarantine<suffix>``, report.json/html and suite.json.

    Args:
        result: what :func:`clean_frame` returned.
        out_dir: the folder (created if needed).
        suite: the suite the data was validated against (saved as suite.json).
        suffix: '.csv' or '.parquet', normally the input file's.
        data_path: the input file, recorded in the report with its sha256.

    Returns:
        Name -> path of each file written.
    """
    out = Path(out_dir)
    suffix = table_suffix(f"x{suffix}")
    report = dict(result.report)
    data = dict(report.get("data") or {})
    if data_path is not None:
        data["path"] = str(data_path)
        data["sha256"] = file_sha256(data_path)
    report["data"] = data
    report["classification"] = {
        column: {"kind": p.get("kind"), "reason": p.get("reason")}
        for column, p in suite_columns(suite).items()
    }
    paths = {
        "clean": write_table(storable(result.clean, suffix), out / f"clean{suffix}"),
        "quarantine": write_table(storable(result.quarantine, suffix), out / f"quarantine{suffix}"),
        "suite": save_suite(suite, out / "suite.json"),
    }
    report["files"] = {name: path.name for name, path in paths.items()}
    paths["report"] = write_json(report, out / "report.json")
    paths["html"] = out / "report.html"
    tmp = out / ".report.html.tmp"
    tmp.write_text(render_html(report, result), encoding="utf-8")
    os.replace(tmp, paths["html"])
    return paths


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _shown(total: int) -> str:
    return f"all {total}" if total <= HTML_ROWS else f"first {HTML_ROWS} of {total}"


def render_html(report: dict[str, Any], result: CleanResult) -> str:
    """A readable data-quality page: counts, classification, failed checks, examples."""
    summary = _table(
        ["rows in", "clean", "of which repaired", "quarantined", "exact duplicates"],
        [
            [
                report["rows_in"],
                report["rows_clean"],
                report["rows_repaired"],
                report["rows_quarantined"],
                report.get("rows_duplicate", 0),
            ]
        ],
    )
    columns = _table(
        ["column", "kind", "why", "policy", "failures", "quarantined", "repaired", "imputed"],
        [
            [
                name,
                c.get("kind"),
                c.get("classification_reason") or "",
                c.get("action", ""),
                c.get("failures", 0),
                c.get("quarantined_rows", 0),
                c.get("repaired_rows", 0),
                c.get("imputed_rows", 0),
            ]
            for name, c in report["columns"].items()
        ],
    )
    checks = _table(
        ["#", "expectation", "column", "passed", "unexpected", "quarantined", "examples"],
        [
            [
                e["index"],
                e["type"],
                e.get("column") or "",
                "yes" if e["success"] else "no",
                e["unexpected_count"],
                e["quarantined_rows"],
                ", ".join(f"row {x['row']}: {readable(x['value'])}" for x in e["examples"]),
            ]
            for e in report["expectations"]
        ],
    )
    repairs = _table(
        ["row", "column", "from", "to", "how"],
        [
            [r["row"], r["column"], readable(r["from"]), readable(r["to"]), r["how"]]
            for r in report["repairs"][:HTML_ROWS]
        ],
    )
    held = result.quarantine.head(HTML_ROWS)
    quarantined = _table(
        ["row", "reason"],
        [
            [r, reason]
            for r, reason in zip(held["halfcost_row"], held["halfcost_reason"], strict=True)
        ],
    )
    source = html.escape(str((report.get("data") or {}).get("path", "the batch")))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>halfcost clean: {source}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }}
th {{ background: #f3f3f3; }}
</style></head><body>
<h1>Data quality: {source}</h1>
<p>Validated with Great Expectations against {len(report["expectations"])} expectations.
Every input row is either in the clean file or in the quarantine file, never both.</p>
{summary}
<h2>Columns: classification and outcome</h2>{columns}
<h2>Checks</h2>{checks}
<h2>Repairs ({_shown(len(report["repairs"]))})</h2>{repairs}
<h2>Quarantined rows ({_shown(report["rows_quarantined"])})</h2>{quarantined}
</body></html>
"""
