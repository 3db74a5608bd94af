#!/bin/sh
# Fills fuzz/corpus/<target>/ with seed inputs. Usage: fuzz/seed.sh [SHARED_FEED_CORPUS]
# The shared feed corpus is optional (default: ../shared/corpus/feeds beside the repository);
# without it the feed targets and html_to_text start from the test fixtures only. feed_lenient
# also gets tests/fixtures/parsing (the documents the lenient pass repairs).
set -eu
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
shared=${1:-$root/../shared/corpus/feeds}
corpus="$fuzz/corpus"
mkdir -p "$corpus/feed_parse" "$corpus/feed_lenient" "$corpus/html_to_text" "$corpus/config_load" "$corpus/query_parse"

for t in feed_parse feed_lenient html_to_text; do
    if [ -d "$shared" ]; then
        find "$shared" -maxdepth 1 -type f -exec cp {} "$corpus/$t/" \;
    else
        echo "seed.sh: no shared corpus at $shared; using tests/fixtures/feeds only" >&2
    fi
    find "$root/tests/fixtures/feeds" -maxdepth 1 -type f -exec cp {} "$corpus/$t/" \; 2>/dev/null || true
    chmod -R u+w "$corpus/$t"
done
find "$root/tests/fixtures/parsing" -maxdepth 1 -name '*.xml' -type f -exec cp {} "$corpus/feed_lenient/" \;

cp "$root/config.toml" "$corpus/config_load/config.toml"
find "$root/tests" "$root/examples" -name '*.toml' -type f | while read -r f; do
    cp "$f" "$corpus/config_load/$(echo "${f#"$root"/}" | tr / _)"
done
# The ```toml blocks of README.md, one seed each.
awk -v dir="$corpus/config_load" '/^```toml/ { n++; f = dir "/readme-" n ".toml"; next }
    /^```/ { f = ""; next } f != "" { print > f }' "$root/README.md"

# Query seeds: the syntax table in README.md ("Queries") and the watches in config.toml.
i=0
while IFS= read -r q; do
    i=$((i + 1))
    printf '%s' "$q" > "$corpus/query_parse/seed-$i"
done <<'QUERIES'
sanctions
"asset freeze"
sanction*
sanctions AND embargo
sanctions embargo
sanctions OR embargo
NOT trade
treaty NOT trade
Russia NEAR/5 sanctions
Russia NEAR sanctions
Russia NEAR/1 "North Korea"
title:sanctions
body:(sanctions OR embargo)
author:"Jane Doe"
category:politics
feed:reuters
title:sanction* NEAR/3 body:Russia
( a OR b ) AND ( c OR d )
"Kim Jong Un" AND "Vladimir Putin"
US OR UN OR EU OR DPRK OR NATO
"Sao Paulo" OR São
북한 OR 美国 OR Москва
“curly quotes” AND ‘single’
Russia's
sanctions OR sanctioned OR embargo OR "asset freeze" OR "export controls"
treaty OR "arms control" OR (accord NOT trade)
"North Korea" AND Russia AND (treaty OR sanctions OR military OR troops OR munitions OR weapons OR summit OR visit OR cooperation)
("North Korea" AND ("UN Panel of Experts" OR "Multilateral Sanctions Monitoring Team")) OR ("Kim Jong Un" AND "Vladimir Putin")
a NEAR/0 b
(a OR b
ab*
sanctions AND NOT
QUERIES
echo "seeded: $(for t in feed_parse feed_lenient html_to_text config_load query_parse; do printf '%s=%s ' "$t" "$(ls "$corpus/$t" | wc -l)"; done)"
