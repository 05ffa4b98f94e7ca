#!/usr/bin/env bash
# The host-site test (tests/hostsite/), against Rooms as an operator gets it: the wheel built
# from this checkout, installed into a fresh virtualenv, with the tests copied outside the
# source tree so nothing of the repository is importable. `make test-hostsite` runs it; CI runs
# it after `make test`. Arguments go to pytest. KEEP=1 keeps the work directory.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rooms-hostsite.XXXXXX")"
cleanup() {
    if [ -n "${KEEP:-}" ]; then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
started=$SECONDS

# The files of this checkout (tracked or new, not ignored): no build/ or *.egg-info left over
# from earlier builds can slip into the wheel.
mkdir -p "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$ROOT" && while IFS= read -r -d '' file; do
        if [ -e "$file" ]; then printf "%s\0" "$file"; fi
    done) |
    (cd "$ROOT" && xargs -0 cp --parents -t "$WORK/src")

echo "--- building the wheel"
"$PYTHON" -m pip wheel -qq --no-deps -w "$WORK/dist" "$WORK/src"
wheel="$(ls "$WORK"/dist/rooms-*.whl)"
echo "$(basename "$wheel")"

echo "--- a fresh virtualenv: the wheel and the test tools"
"$PYTHON" -m venv "$WORK/venv"
# The test tools at the versions the main suite allows (pyproject.toml's dev extra).
mapfile -t tools < <("$PYTHON" - "$ROOT/pyproject.toml" <<'PY'
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    dev = tomllib.load(f)["project"]["optional-dependencies"]["dev"]
wanted = {"pytest", "pytest-django", "pytest-asyncio", "pytest-timeout"}
for requirement in dev:
    if re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0] in wanted:
        print(requirement)
PY
)
"$WORK/venv/bin/python" -m pip install -qq "$wheel" "${tools[@]}"

echo "--- the host site, outside the source tree"
mkdir -p "$WORK/site"
(cd "$ROOT/tests/hostsite" && git ls-files -z --cached --others --exclude-standard -- .) |
    (cd "$ROOT/tests/hostsite" && xargs -0 cp --parents -t "$WORK/site")
echo "setup took $((SECONDS - started))s"

cd "$WORK/site"
status=0
env -u DJANGO_SETTINGS_MODULE -u PYTHONPATH \
    HOSTSITE_DB="$WORK/site/hostsite.sqlite3" HOSTSITE_TEST_DB="$WORK/site/test.sqlite3" \
    "$WORK/venv/bin/python" -m pytest "$@" || status=$?
echo "host-site test took $((SECONDS - started))s"
exit $status
