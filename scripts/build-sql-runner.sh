#!/usr/bin/env bash
# Builds Sluice's SQL runner jar (every .java under engine-client/runner/src/main/java, plus
# engine-client/runner/src/main/resources, e.g. the table factories' service file) into
# .engine/sql-runner-<runner-version>.jar and prints the jar's path on stdout.
#
#   scripts/build-sql-runner.sh [flink-version]     (default 2.3.0)
#
# The runner version is the first 12 hex digits of a sha256 over the path and content of
# every source and resource file, so a change to any of them (or a file added, removed or
# renamed) gives a new jar name; an existing jar is reused (idempotent). The jar is
# compiled with --release 11 against the given Flink's lib/ and works on 1.20 and 2.x
# alike. Installs that Flink version if needed (scripts/flink.sh install).
# Exit code 3: no Java/JDK on this machine.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-${SLUICE_FLINK_VERSION:-2.3.0}}"
RUNNER="$ROOT/engine-client/runner"
SRC_DIR="src/main/java"
RES_DIR="src/main/resources"
ENGINE_DIR="$ROOT/.engine"

say() { echo "build-sql-runner.sh: $*" >&2; }

for tool in java javac jar; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        say "'$tool' not found: a JDK (11 or newer) is needed to build the SQL runner."
        exit 3
    fi
done
[[ -f "$RUNNER/$SRC_DIR/sluice/SqlRunner.java" ]] || {
    say "error: source not found: $RUNNER/$SRC_DIR/sluice/SqlRunner.java"
    exit 1
}

# Relative paths, sorted bytewise, so the version does not depend on the checkout's place
# or the locale.
mapfile -t SOURCES < <(cd "$RUNNER" && find "$SRC_DIR" -type f -name '*.java' | LC_ALL=C sort)
mapfile -t RESOURCES < <(cd "$RUNNER" && { [[ -d "$RES_DIR" ]] && find "$RES_DIR" -type f; } | LC_ALL=C sort)
RUNNER_VERSION="$(
    cd "$RUNNER"
    for f in "${SOURCES[@]}" "${RESOURCES[@]}"; do
        printf '%s\n' "$f"
        sha256sum <"$f" | cut -d' ' -f1
    done | sha256sum | cut -c1-12
)"
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
(cd "$RUNNER" && javac --release 11 -nowarn -encoding UTF-8 -cp "$FLINK_HOME/lib/*" \
    -d "$WORK/classes" "${SOURCES[@]}") >&2
if [[ -d "$RUNNER/$RES_DIR" ]]; then
    cp -R "$RUNNER/$RES_DIR/." "$WORK/classes/"
fi
printf 'Main-Class: sluice.SqlRunner\nImplementation-Title: sluice-sql-runner\nImplementation-Version: %s\n' \
    "$RUNNER_VERSION" >"$WORK/manifest.txt"
jar --create --file "$WORK/runner.jar" --manifest "$WORK/manifest.txt" -C "$WORK/classes" . >&2
mv -f "$WORK/runner.jar" "$JAR"
say "built $JAR (Flink $VERSION API, --release 11)"
echo "$JAR"
