"""Evidence: the report behind a model row (its search's report.html) or a drift event
(its drift.html), served read-only by row id from the paths the registry stored."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from halfcost.app import _shell, _ui

MAX_INLINE_BYTES = 30_000_000

ctx = _shell.page_context()
st.title("Evidence")
_ui.stop_if_empty(ctx)

params = st.query_params
kind = "model" if "model" in params else "event" if "event" in params else None
row_id = params.get(kind) if kind else None
if kind is None or not str(row_id).isdigit():
    st.info(
        "Open a report from a model row (Models or Projects page) or a drift event (Drift & "
        "retraining page): their **open report** links lead here."
    )
    st.stop()

found = _ui.query(ctx, "evidence_file", kind, int(row_id))
if found is None:
    st.info(f"This {kind} has no report stored in the registry (seeded rows have none).")
    st.stop()
path = Path(found["path"])
st.caption(f"{found['title']} · `{path}` (read-only)")
if not found["exists"] or not path.is_file():
    st.error(
        f"The registry points to `{path}`, which is not there any more; re-run the command "
        "that wrote it, or ingest its folder again from where it now lives."
    )
    st.stop()
raw = path.read_bytes()
if path.suffix == ".html":  # a drift.html links Evidently's shared bundle: put it back inline
    from halfcost.drift import self_contained_html

    raw = self_contained_html(raw.decode("utf-8", errors="replace"), path).encode("utf-8")
st.download_button(
    f"Download {path.name}",
    data=raw,
    file_name=path.name,
    mime="text/html",
    key="download_evidence",
    on_click="ignore",
    icon=":material/download:",
)
if len(raw) > MAX_INLINE_BYTES:
    st.info(f"{path.name} is {len(raw) / 1e6:,.1f} MB: download it to read it.")
else:
    components.html(raw.decode("utf-8", errors="replace"), height=1400, scrolling=True)
