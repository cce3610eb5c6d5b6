"""halfcost's Streamlit app for managers: what ML costs, what it returns, what was saved.

Start it with ``halfcost app [--db URL]`` (or ``streamlit run main.py -- --db URL``). This
entry page opens the registry read-only, draws the sidebar filters every page shares
(team and date range) and hands over to the page picked in the navigation.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from halfcost.app import _shell

PAGES_DIR = Path(__file__).parent / "pages"
PAGES = (  # file, title, icon: one file per page
    ("overview.py", "Overview", ":material/dashboard:"),
    ("projects.py", "Projects", ":material/work:"),
    ("datasets.py", "Datasets & reuse", ":material/dataset:"),
    ("models.py", "Models", ":material/model_training:"),
    ("drift.py", "Drift & retraining", ":material/timeline:"),
)
HIDDEN_PAGES = (  # reached by links only: the report of a model or a drift event
    ("evidence.py", "Evidence", ":material/description:"),
)


def main() -> None:
    """Open the registry, draw the filters, run the page picked in the navigation."""
    pages = [st.Page(PAGES_DIR / name, title=title, icon=icon) for name, title, icon in PAGES]
    pages += [
        st.Page(PAGES_DIR / name, title=title, icon=icon, visibility="hidden")
        for name, title, icon in HIDDEN_PAGES
    ]
    _shell.run_pages(pages)


main()
