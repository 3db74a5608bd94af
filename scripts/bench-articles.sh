#!/usr/bin/env bash
# The feed farm with article pages: what a first poll costs when every new story's article is
# fetched and matched, against the same poll with `article = "never"`.
#
#   scripts/bench-articles.sh [N]        # N feeds, default 1000; needs nginx and /usr/bin/time
#
# Generates the farm with ../shared/bench/feedfarm/gen.py (override with BENCH_DIR), gives every
# item an article page (scripts/article-farm.py), serves both with the farm's loopback nginx
# and runs `wirewatch once` on a fresh database for each mode in ARTICLE_MODES (default
# "never always"). Uses target/release/wirewatch (override with WIREWATCH_BIN). Prints one line
# per mode: wall and CPU time, peak RSS, alerts, and the article pages requested.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000}
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
BIN=${WIREWATCH_BIN:-$ROOT/target/release/wirewatch}
MODES=${ARTICLE_MODES:-never always}
export FARM_ROOT=${FARM_ROOT:-/tmp/feedfarm}
WWW=$FARM_ROOT/www
STATE=$(mktemp -d /tmp/wirewatch-articles.XXXXXX)

[[ -x "$BIN" ]] || { echo "no wirewatch binary at $BIN: cargo build --release first" >&2; exit 1; }
[[ -f "$BENCH_DIR/feedfarm/gen.py" ]] || { echo "no feed farm at $BENCH_DIR" >&2; exit 1; }

started_nginx=
cleanup() {
    [[ -n "$started_nginx" ]] && "$BENCH_DIR/feedfarm/serve.sh" stop >/dev/null
    rm -rf "$STATE"
}
trap cleanup EXIT

python3 "$BENCH_DIR/feedfarm/gen.py" --n "$N" --out "$WWW" >&2
python3 "$ROOT/scripts/article-farm.py" "$WWW" >&2
if ! "$BENCH_DIR/feedfarm/serve.sh" status >/dev/null; then
    "$BENCH_DIR/feedfarm/serve.sh" start >&2
    started_nginx=1
fi

for mode in $MODES; do
    dir=$STATE/$mode
    mkdir -p "$dir"
    python3 - "$WWW/manifest.json" "$dir" "$mode" >"$dir/config.toml" <<'PY'
import json, sys
manifest, state, mode = sys.argv[1:4]
m = json.load(open(manifest))
q = json.dumps
print("[storage]\npath = %s\n" % q(state + "/wirewatch.db"))
print('[poll]\nbackfill = "36500d"\narticle = %s\n' % q(mode))
print('[[notifier]]\nname = "out"\ntype = "jsonl"\npath = %s\n' % q(state + "/alerts.jsonl"))
print('[[watch]]\nname = "terms"\nquery = %s\nnotify = ["out"]\n' % q(" OR ".join(q(t) for t in m["watch_terms"])))
print('[[watch]]\nname = "deep"\nquery = \'"export controls" OR MSMT\'\nnotify = ["out"]\n')
for f in m["feeds"]:
    print("[[feed]]\nurl = %s\n" % q(f["url"]))
PY
    log=$FARM_ROOT/logs/access.log
    from=$(wc -l <"$log" 2>/dev/null || echo 0)
    /usr/bin/time -v -o "$dir/time" "$BIN" --config "$dir/config.toml" once >"$dir/out" 2>"$dir/err" || {
        echo "wirewatch once failed ($mode); last lines:" >&2
        tail -5 "$dir/err" >&2
        exit 1
    }
    pages=$(tail -n +"$((from + 1))" "$log" | grep -c '"GET /site/' || true)
    alerts=$(grep -c . "$dir/alerts.jsonl" 2>/dev/null || echo 0)
    deep=$(grep -c '"watch":"deep"' "$dir/alerts.jsonl" 2>/dev/null || echo 0)
    awk -v mode="$mode" -v n="$N" -v pages="$pages" -v alerts="$alerts" -v deep="$deep" '
        /Elapsed \(wall clock\)/ { split($NF, t, ":"); wall = (length(t) == 3) ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2] }
        /User time/ { cpu += $NF } /System time/ { cpu += $NF }
        /Maximum resident/ { rss = $NF / 1024 }
        END { printf "articles: N=%d article=%-6s wall %.2f s, CPU %.2f s, peak RSS %.0f MiB, %d alerts (%d from the deep watch), %d article pages requested\n", n, mode, wall, cpu, rss, alerts, deep, pages }
    ' "$dir/time"
    tail -1 "$dir/out" >&2
done
