#!/usr/bin/env bash
# The README's test command (`deno task test`): the Deno suite, then the Python trainer's pytest suite
# (Debian's /usr/bin/python3 with torch; GPU-only tests, *_on_gpu.py, are left out). Both always run.
cd "$(dirname "$0")/.." || exit 2
deno test -A --parallel --trace-leaks --doc "$@"
deno_rc=$?
PYTHON="${MAPPA_PYTHON:-/usr/bin/python3}"
"$PYTHON" -m pytest trainer/tests -q --ignore-glob='*_on_gpu.py' -p no:cacheprovider
py_rc=$?
if [ "$deno_rc" -ne 0 ]; then exit "$deno_rc"; fi
exit "$py_rc"
