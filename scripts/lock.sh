#!/usr/bin/env bash
# Regenerate constraints.txt: the exact versions that the README's two commands install
# (and so the versions CI tests). pyproject.toml keeps its ranges for users who install
# halfcost into an environment of their own.
#
#   bash scripts/lock.sh             keep today's pins where pyproject.toml still allows them
#   bash scripts/lock.sh --upgrade   take the newest versions that resolve together
#
# Run it after changing a dependency in pyproject.toml, then run the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(mktemp -d)
trap 'rm -rf "$tool"' EXIT
python3 -m venv "$tool/venv"
"$tool/venv/bin/pip" install --quiet uv
# uv reads constraints.txt as its preferences: only what pyproject.toml no longer allows
# (or everything, with --upgrade) moves.
"$tool/venv/bin/uv" pip compile pyproject.toml --all-extras \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --custom-compile-command "bash scripts/lock.sh" \
    -o constraints.txt "$@"
