#!/usr/bin/env bash
# Check that pyproject.toml's lower bounds are real: install the declared lowest version
# of every library the search imports into a temporary venv (uv's lowest-direct
# resolution: each listed requirement at its floor, the rest as they resolve), install
# halfcost itself without dependencies, and run the search tests there.
#
#   bash scripts/floors.sh              the search tests, slow ones too
#   bash scripts/floors.sh -m "not slow"  extra arguments go to pytest
#
# A floor that is too low fails here (an ImportError, a missing API), not at a user's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tool=$(mktemp -d)
trap 'rm -rf "$tool"' EXIT
python3 -m venv "$tool/venv"
py="$tool/venv/bin/python"
"$py" -m pip install --quiet uv
# the search's libraries, with the bounds pyproject.toml declares for them
requirements=$("$py" - <<'PY'
import re, tomllib
search = {"numpy", "pandas", "pyarrow", "scikit-learn", "lightgbm", "optuna", "skops",
          "sqlalchemy", "alembic", "psycopg", "tqdm", "plotly", "pyyaml", "matplotlib",
          "skl2onnx", "onnxmltools", "onnxruntime", "onnx"}  # --runtime onnx, load_model
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
tests = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"]
chosen = [d for d in deps if re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() in search]
print("\n".join(chosen + [t for t in tests if t.startswith(("pytest>", "pytest-timeout"))]))
PY
)
echo "floors of:"; echo "$requirements" | sed 's/^/  /'
echo "$requirements" > "$tool/floors.in"
"$tool/venv/bin/uv" pip install --quiet --python "$py" --resolution lowest-direct -r "$tool/floors.in"
"$tool/venv/bin/uv" pip install --quiet --python "$py" --no-deps "$root"
echo "installed:"; "$tool/venv/bin/uv" pip freeze --python "$py" \
    | grep -Ei '^(numpy|pandas|scikit-learn|lightgbm|optuna|skops|sqlalchemy|psycopg|skl2onnx|onnxmltools|onnxruntime|onnx)==' \
    | sed 's/^/  /'
cd "$tool"  # import halfcost from the venv, not from the checkout
"$py" -m pytest -p no:cacheprovider -q "$root/tests/automl/test_search.py" \
    "$root/tests/automl/test_search_estimator.py" "$root/tests/automl/test_search_objective.py" \
    "$root/tests/automl/test_search_finalists.py" "$root/tests/automl/test_search_workers.py" \
    "$root/tests/automl/test_search_study.py" "$root/tests/automl/test_onnx.py" \
    --rootdir "$root" -c "$root/pyproject.toml" "$@"
