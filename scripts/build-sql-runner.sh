#!/usr/bin/env bash
# Builds Sluice's SQL runner jar (engine-client/runner/src/main/java/sluice/SqlRunner.java)
# into .engine/sql-runner-<runner-version>.jar and prints the jar's path on stdout.
#
#   scripts/build-sql-runner.sh [flink-version]     (default 2.3.0)
#
# The runner version is the first 12 hex digits of the sha256 of the source file, so a
# changed source gives a new jar name; an existing jar is reused (idempotent). The jar is
# compiled with --release 11 against the given Flink's lib/ and works on 1.20 and 2.x
# alike. Installs that Flink version if needed (scripts/flink.sh install).
# Exit code 3: no Java/JDK on this machine.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-${SLUICE_FLINK_VERSION:-2.3.0}}"
SRC="$ROOT/engine-client/runner/src/main/java/sluice/SqlRunner.java"
ENGINE_DIR="$ROOT/.engine"

say() { echo "build-sql-runner.sh: $*" >&2; }

for tool in java javac jar; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        say "'$tool' not found: a JDK (11 or newer) is needed to build the SQL runner."
        exit 3
    fi
done
[[ -f "$SRC" ]] || { say "error: source not found: $SRC"; exit 1; }

RUNNER_VERSION="$(sha256sum "$SRC" | cut -c1-12)"
JAR="$ENGINE_DIR/sql-runner-$RUNNER_VERSION.jar"
if [[ -f "$JAR" ]]; then
    echo "$JAR"
    exit 0
fi

FLINK_HOME="$("$ROOT/scripts/flink.sh" install "$VERSION")"
mkdir -p "$ENGINE_DIR"
WORK="$(mktemp -d "$ENGINE_DIR/sql-runner-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/classes"
# --release 11: class file version 55 and the Java 11 API only, so the same jar loads
# on Flink 1.20 (Java 11/17) and Flink 2.x (Java 11+).
javac --release 11 -nowarn -encoding UTF-8 -cp "$FLINK_HOME/lib/*" -d "$WORK/classes" "$SRC" >&2
printf 'Main-Class: sluice.SqlRunner\nImplementation-Title: sluice-sql-runner\nImplementation-Version: %s\n' \
    "$RUNNER_VERSION" >"$WORK/manifest.txt"
jar --create --file "$WORK/runner.jar" --manifest "$WORK/manifest.txt" -C "$WORK/classes" . >&2
mv -f "$WORK/runner.jar" "$JAR"
say "built $JAR (Flink $VERSION API, --release 11)"
echo "$JAR"
