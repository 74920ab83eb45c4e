#!/usr/bin/env bash
# Runs the standard pool-overhead matrix and prints ops/ms per pool and the ferry/hikari ratio.
#
#   ferry-bench/compare.sh                # ferry and hikari, the standard matrix
#   POOLS=ferry,hikari,dbcp2 ferry-bench/compare.sh
#   POOLS=ferry-lanes,hikari ferry-bench/compare.sh   # Ferry with lanes configured, borrowing in a lane
#
# The ratio column is the first pool in POOLS over hikari.
#
# Matrix: threads 1, 4, 16 on a pool of 16; 32 threads on a pool of 8. Benchmarks ConnectionCycle and
# StatementCycle on the stub driver (no I/O). Then the virtual-thread contention run (JDK 21+).
# Takes about 8 minutes on 2 cores. Raw JMH JSON goes to ferry-bench/target/compare/.
set -euo pipefail
cd "$(dirname "$0")/.."

POOLS="${POOLS:-ferry,hikari}"
FIRST="${POOLS%%,*}"
JAR=ferry-bench/target/benchmarks.jar
OUT=ferry-bench/target/compare
JMH_OPTS="${JMH_OPTS:--wi 5 -w 2 -i 5 -r 2 -f 1}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

if [ ! -f "$JAR" ]; then
    mvn -B -ntp -q -DskipTests package -pl ferry-bench -am
fi
mkdir -p "$OUT"
command -v jq >/dev/null || { echo "compare.sh needs jq (apt-get install jq)" >&2; exit 1; }

run() { # threads poolSize
    local file="$OUT/t$1-p$2.json"
    "$JAVA" -jar "$JAR" 'ConnectionCycle|StatementCycle' -p pool="$POOLS" -p poolSize="$2" -t "$1" \
        $JMH_OPTS -rf json -rff "$file" >"$OUT/t$1-p$2.log" 2>&1
    echo "$file"
}

files=()
for spec in "1 16" "4 16" "16 16" "32 8"; do
    set -- $spec
    echo "running threads=$1 poolSize=$2 ..." >&2
    files+=("$(run "$1" "$2")")
done

echo
echo "Pool overhead, ops/ms (higher is better); $(nproc) cores; $("$JAVA" -version 2>&1 | head -n 1)"
header="benchmark        threads pool"
IFS=, read -ra pools <<<"$POOLS"
for p in "${pools[@]}"; do header+=$(printf ' %12s' "$p"); done
header+=$(printf ' %13s' "$FIRST/hikari")
echo "$header"
for f in "${files[@]}"; do
    for bench in ConnectionCycle StatementCycle; do
        line=$(printf '%-16s' "$bench")
        threads=$(jq -r '.[0].threads' "$f")
        size=$(jq -r '.[0].params.poolSize' "$f")
        line+=$(printf ' %7s %4s' "$threads" "$size")
        for p in "${pools[@]}"; do
            score=$(jq -r --arg b "$bench" --arg p "$p" \
                '.[] | select((.benchmark | endswith($b + ".cycle")) and .params.pool == $p) | .primaryMetric.score' "$f")
            line+=$(printf ' %12.0f' "$score")
        done
        ratio=$(jq -r --arg b "$bench" --arg first "$FIRST" '
            [.[] | select(.benchmark | endswith($b + ".cycle"))] as $r
            | (($r[] | select(.params.pool == $first) | .primaryMetric.score)
               / ($r[] | select(.params.pool == "hikari") | .primaryMetric.score))' "$f" 2>/dev/null || echo "n/a")
        line+=$(printf ' %13.2f' "$ratio")
        echo "$line"
    done
done

echo
echo "Virtual-thread contention (1,000 virtual threads, pool of 10):"
VT_JAVA="$JAVA"
if [ "$("$JAVA" -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p')" -lt 21 ] && [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
    VT_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
fi
"$VT_JAVA" -cp "$JAR" dev.ferry.bench.VirtualThreadContention --pools "$POOLS" ${VT_OPTS:-}
