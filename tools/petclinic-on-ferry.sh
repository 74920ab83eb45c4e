#!/usr/bin/env bash
# Runs Spring PetClinic's own test suite on PostgreSQL four times: on HikariCP (as it ships) and on Ferry through
# ferry-spring-boot-starter (one dependency added to its POM), each with its defaults and with
# spring.datasource.hikari.minimum-idle=0 and connection-timeout=2000 (the same HikariCP keys for both pools: the
# starter honours them). Prints run/failed/errors/skipped per run. PetClinic is fetched, never committed.
#
#   tools/petclinic-on-ferry.sh /path/to/spring-petclinic [workdir]
#
# Needs: PostgreSQL on 127.0.0.1:5432 (user postgres, trust), Maven Central. Builds Ferry's jars and installs them
# into a private local repository under the workdir (not ~/.m2), seeded from ~/.m2.
set -euo pipefail
src="${1:?path to a spring-petclinic checkout (or git directory)}"
work="${2:-/tmp/petclinic-on-ferry}"
here="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$work" && mkdir -p "$work/app"
if [ -d "$src/.git" ] || git -C "$src" rev-parse --is-bare-repository >/dev/null 2>&1; then
    git -C "$src" archive HEAD | tar -x -C "$work/app"
else
    cp -r "$src"/. "$work/app"
fi
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS petclinic" -qc "CREATE DATABASE petclinic"

# Ferry's jars, for the Ferry runs only, in a repository of their own.
repo="$work/m2"
mkdir -p "$repo"
cp -r "$HOME/.m2/repository/." "$repo/" 2>/dev/null || true
(cd "$here" && mvn -B -ntp -q -DskipTests -Dmaven.repo.local="$repo" install \
    -pl ferry-core,ferry-micrometer,ferry-spring-boot-starter -am)

export POSTGRES_URL="jdbc:postgresql://127.0.0.1:5432/petclinic" POSTGRES_USER=postgres POSTGRES_PASS=postgres
export SPRING_PROFILES_ACTIVE=postgres SPRING_TEST_DATABASE_REPLACE=none
skip="-Dcheckstyle.skip -Dspring-javaformat.skip=true -Djacoco.skip=true -Dmaven.gitcommitid.skip=true"

run() { # name pom extra-env...
    local name="$1" pom="$2"; shift 2
    (cd "$work/app" && env "$@" mvn -B -ntp -Dmaven.repo.local="$repo" -f "$pom" $skip test) \
        > "$work/$name.log" 2>&1 || true
    local totals
    totals=$(grep -E '^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' \
        "$work/$name.log" | tail -n 1 | sed -E 's/^\[[A-Z]+\] //')
    local ferry hikari
    ferry=$(grep -cE 'dev\.ferry\.pool\.ConnectionPool +: .* - started' "$work/$name.log" || true)
    hikari=$(grep -cE 'HikariPool-[0-9]+ - Start completed' "$work/$name.log" || true)
    local settings
    settings=$( { grep -oE 'minimumIdle=[0-9]+, connectionTimeout=[0-9]+ms|(minimumIdle|connectionTimeout)\.+[0-9]+' \
        "$work/$name.log" || true; } | sed -E 's/\.+/=/' | sort -u | tr '\n' ' ')
    printf '%-18s %s   (pools started: Ferry %s, HikariCP %s) %s\n' "$name" \
        "${totals:-no test totals: see $work/$name.log}" "$ferry" "$hikari" "$settings"
}

# The Ferry POM: PetClinic's, plus the starter.
sed 's#<dependencies>#<dependencies>\n    <dependency><groupId>dev.ferry</groupId><artifactId>ferry-spring-boot-starter</artifactId><version>0.1.0-SNAPSHOT</version></dependency>#' \
    "$work/app/pom.xml" > "$work/app/pom-ferry.xml"

short=(SPRING_DATASOURCE_HIKARI_MINIMUMIDLE=0 SPRING_DATASOURCE_HIKARI_CONNECTIONTIMEOUT=2000)
export LOGGING_LEVEL_COM_ZAXXER_HIKARI=DEBUG # HikariCP prints its settings only at DEBUG
run hikari-defaults pom.xml X=1
run ferry-defaults pom-ferry.xml X=1
run hikari-min0-2s pom.xml "${short[@]}"
run ferry-min0-2s pom-ferry.xml "${short[@]}"
