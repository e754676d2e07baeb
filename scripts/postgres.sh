#!/usr/bin/env bash
# Makes a PostgreSQL server answer at the test suite's URL (default
# postgres://postgres@127.0.0.1:5432, user postgres without a password):
#
#   scripts/postgres.sh ensure [URL]
#
# When nothing answers there, it installs Debian's PostgreSQL server if it is missing
# (apt-get, as root), creates the local cluster if there is none, lets loopback
# connections in without a password, and starts the cluster. This is a cluster for
# tests on this machine only: trust on 127.0.0.1/::1 would be wrong anywhere else.
# Progress and timings go to stderr.
set -euo pipefail

say() { echo "postgres.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

URL="${2:-${SLUICE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}}"

ready() { psql "$URL/postgres" -Atqc 'select 1' >/dev/null 2>&1; }

install_server() {
    local t0=$SECONDS
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
    say "installing Debian's PostgreSQL server (apt-get install postgresql)"
    apt-get update -qq >/dev/null
    # The package's own start fails harmlessly where no init system runs; we start the
    # cluster below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    say "installed PostgreSQL in $((SECONDS - t0))s"
}

# The newest installed major version's "main" cluster, created if missing.
cluster_version() {
    local version
    version="$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null | cut -d/ -f5 | sort -V | tail -n1)"
    [[ -n "$version" ]] || die "no PostgreSQL server under /usr/lib/postgresql"
    if [[ ! -d "/etc/postgresql/$version/main" ]]; then
        say "creating the local cluster $version/main"
        pg_createcluster "$version" main >/dev/null
    fi
    echo "$version"
}

# Loopback connections without a password, first in pg_hba.conf so they win; a test
# cluster also needs no durability, so commits skip fsync (much faster migrations).
configure() {
    local version="$1" conf hba
    conf="/etc/postgresql/$version/main"
    hba="$conf/pg_hba.conf"
    if ! grep -q '^# sluice: test cluster' "$hba"; then
        say "letting loopback connections in without a password ($hba)"
        {
            echo '# sluice: test cluster on this machine only: loopback connections are trusted.'
            echo 'host    all             all             127.0.0.1/32            trust'
            echo 'host    all             all             ::1/128                 trust'
            cat "$hba"
        } >"$hba.new"
        chown --reference="$hba" "$hba.new"
        chmod --reference="$hba" "$hba.new"
        mv "$hba.new" "$hba"
        mkdir -p "$conf/conf.d"
        cat >"$conf/conf.d/sluice-tests.conf" <<'EOF'
# sluice: a test cluster keeps nothing worth an fsync; the suite creates a database per test.
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
EOF
    fi
}

ensure() {
    local t0=$SECONDS version
    if ready; then return 0; fi
    say "nothing answers at $URL; setting up the local PostgreSQL cluster"
    # The client alone (psql) does not make a server: look for the postgres binary.
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null 2>&1 ||
        install_server
    version="$(cluster_version)"
    configure "$version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main stop >/dev/null 2>&1 || true
    pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
        { tail -n 20 "/var/log/postgresql/postgresql-$version-main.log" >&2 || true; die "the cluster did not start"; }
    for _ in $(seq 1 60); do ready && break; sleep 0.5; done
    ready || die "PostgreSQL $version started but does not answer at $URL"
    say "PostgreSQL $version answers at $URL (${SECONDS}s in all, $((SECONDS - t0))s for the start)"
}

case "${1:-}" in
ensure) ensure ;;
*) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
