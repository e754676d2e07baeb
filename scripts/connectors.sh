#!/usr/bin/env bash
# Resolves the platform's connector catalogue (scripts/connectors/catalogue.tsv) from
# Maven Central with mvn into .engine/connectors/<flink version>/, and writes each
# version's manifest.json there (identifier, kind, jar, sha256, Maven coordinates).
#
#   scripts/connectors.sh install [version ...]   resolve (idempotent; default: every
#                                                 version in the catalogue)
#   scripts/connectors.sh dir VERSION             prints the version's directory
#
# A version is resolved again only when its lines in the catalogue change. Progress
# goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CATALOGUE="$ROOT/scripts/connectors/catalogue.tsv"
BASE="$ROOT/.engine/connectors"

say() { echo "connectors.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The catalogue's lines for one version, comments and blanks dropped.
lines_of() { awk -F'\t' -v v="$1" '!/^#/ && NF >= 4 && $1 == v' "$CATALOGUE"; }

versions() { awk -F'\t' '!/^#/ && NF >= 4 { print $1 }' "$CATALOGUE" | sort -u; }

install_version() {
    local version="$1" dir lines stamp pom t0
    [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad Flink version '$version'"
    dir="$BASE/$version"
    lines="$(lines_of "$version")"
    [[ -n "$lines" ]] || die "the catalogue has no line for Flink $version"
    stamp="$(printf '%s\n' "$lines" | sha256sum | cut -c1-16)"
    if [[ -f "$dir/manifest.json" && "$(cat "$dir/.catalogue" 2>/dev/null)" == "$stamp" ]]; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to resolve the connector catalogue"
    say "resolving the connector catalogue for Flink $version from Maven Central"
    t0=$SECONDS
    rm -rf "$dir"
    mkdir -p "$dir"
    # One throw-away pom per version listing every jar, so one mvn run copies them all.
    pom="$dir/.pom.xml"
    {
        echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        echo "<groupId>dev.sluice.local</groupId><artifactId>connectors-$version</artifactId><version>1</version>"
        echo '<packaging>pom</packaging><dependencies>'
        printf '%s\n' "$lines" | cut -f4 | sort -u | while IFS=: read -r g a v; do
            echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
        done
        echo '</dependencies></project>'
    } >"$pom"
    # Only the named jars: the SQL connectors are shaded, and the engine brings the rest.
    if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DexcludeTransitive=true \
        -DoutputDirectory="$dir" >"$dir/.mvn.log" 2>&1; then
        tail -n 20 "$dir/.mvn.log" >&2
        die "mvn could not resolve the catalogue for Flink $version (log: $dir/.mvn.log)"
    fi
    printf '%s\n' "$lines" | python3 "$ROOT/scripts/connectors/manifest.py" "$version" "$dir" >"$dir/manifest.json.tmp"
    mv "$dir/manifest.json.tmp" "$dir/manifest.json"
    echo "$stamp" >"$dir/.catalogue"
    say "Flink $version: $(ls "$dir"/*.jar | wc -l) jars, $(du -sh "$dir" | cut -f1), in $((SECONDS - t0))s"
}

cmd="${1:-}"
shift || true
case "$cmd" in
install)
    if [[ $# -eq 0 ]]; then set -- $(versions); fi
    for v in "$@"; do install_version "$v"; done
    ;;
dir)
    [[ $# -eq 1 ]] || die "usage: scripts/connectors.sh dir VERSION"
    echo "$BASE/$1"
    ;;
*)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
