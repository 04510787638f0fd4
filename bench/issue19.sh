#!/usr/bin/env bash
# Every figure of issue 19, one run each, one after another on the same machine, with the load
# average before and after each: what BENCHMARKS.md's "Issue 19: one run of every figure"
# records. Run from the repository root on a quiet machine (nothing else running), with the
# local PostgreSQL and Redis up:
#
#     bash bench/issue19.sh [LOG-FOLDER]      # about 25-35 minutes on 2 cores
#
# The peers (SpiffWorkflow, python-statemachine) are installed into a temporary folder when the
# environment does not have them (`pip install -e '.[bench]'` installs them for good).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d -t khenthuong-issue19-XXXXXX)}"
mkdir -p "$out"
py=.venv/bin/python
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
if ! $py -c "import SpiffWorkflow, statemachine" 2>/dev/null; then
    peers="$out/peers-packages"
    $py -m pip install -q --target "$peers" SpiffWorkflow python-statemachine
    export PYTHONPATH="$PYTHONPATH:$peers"
fi
echo "issue 19 figures; logs in $out; code $(git rev-parse --short HEAD)"
# The machine's own speed, to read runs on different machines side by side: the absolute
# targets (ms) move with it, the ratios less (a 2-core AMD EPYC VM gave 14-20 µs, varying from
# minute to minute; runs before 2026-12-07 13:40 UTC did not record it).
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
    "sum(range(1000)): $($py -m timeit -n 20000 -r 5 'sum(range(1000))' | sed 's/.*: //')"

step() {  # step NAME COMMAND...: run one benchmark, its output to NAME.txt and the terminal
    local name=$1
    shift
    echo "== $name: $*  ($(uptime | sed 's/.*load/load/'))"
    "$@" 2>&1 | tee "$out/$name.txt"
    echo "== $name done ($(uptime | sed 's/.*load/load/'))"
}

step peers $py bench/peers.py
step queue $py bench/http.py --queue-only --workers 1,2 --requests 300
step history $py bench/audit.py --history
step processes $py bench/http.py --processes 1,2 --clients 8
step workers $py bench/workers.py
echo "all figures in $out"
