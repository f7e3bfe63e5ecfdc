#!/usr/bin/env bash
# Make sure a local PostgreSQL accepts `postgres` with trust auth on 127.0.0.1:5432.
#
# Idempotent. Fast path (server up, trust auth works) takes well under a second.
# Otherwise: install PostgreSQL from Debian packages if missing, start the
# cluster, make sure pg_hba.conf trusts local TCP for user postgres, and wait
# (bounded) until the server accepts connections.
#
# Overridable: PG_HOST (127.0.0.1), PG_PORT (5432), PG_USER (postgres),
#              PG_CLUSTER (main), PG_WAIT_SECONDS (30).
set -euo pipefail

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_WAIT_SECONDS="${PG_WAIT_SECONDS:-30}"
HBA_LINE="host all ${PG_USER} ${PG_HOST}/32 trust"

log() { echo "ensure_postgres: $*" >&2; }
die() { echo "ensure_postgres: ERROR: $*" >&2; exit 1; }

# Run a command as root: directly if we are root, via sudo if available.
SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        # Never hang waiting for a password when there is no terminal (CI).
        if [[ -t 0 ]]; then SUDO=(sudo); else SUDO=(sudo -n); fi
    else
        log "not root and sudo is not available; privileged steps may fail"
    fi
fi
as_root() { "${SUDO[@]}" "$@"; }

is_ready() {
    command -v pg_isready >/dev/null 2>&1 &&
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1
}

# Can we log in without any password (i.e. trust auth)?
trust_ok() {
    if ! command -v psql >/dev/null 2>&1; then
        log "psql not found; assuming trust auth is configured"
        return 0
    fi
    env -u PGPASSWORD PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=3 \
        psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
        -tAc 'select 1' </dev/null >/dev/null 2>&1
}

# Highest installed major version that has the $PG_CLUSTER cluster configured.
cluster_version() {
    local v best=""
    [[ -d /etc/postgresql ]] || return 0
    for v in $(ls /etc/postgresql 2>/dev/null | sort -n); do
        [[ -f "/etc/postgresql/$v/$PG_CLUSTER/postgresql.conf" ]] && best="$v"
    done
    echo "$best"
}

# ---- fast path -------------------------------------------------------------
if is_ready && trust_ok; then
    exit 0
fi

# ---- install if missing ----------------------------------------------------
if [[ -z "$(cluster_version)" ]] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 ||
            die "PostgreSQL is not installed and apt-get is not available; install PostgreSQL 15 manually"
        log "PostgreSQL not installed; installing from Debian packages (this takes a while)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null >/dev/null
    fi
    if [[ -z "$(cluster_version)" ]]; then
        # Package installed but no cluster (e.g. create_main_cluster = false).
        ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1)"
        [[ -n "$ver" ]] || die "no PostgreSQL server binaries found under /usr/lib/postgresql"
        log "creating cluster $ver/$PG_CLUSTER on port $PG_PORT"
        as_root pg_createcluster --port "$PG_PORT" "$ver" "$PG_CLUSTER" >/dev/null
    fi
fi

VER="$(cluster_version)"
[[ -n "$VER" ]] || die "could not find a PostgreSQL cluster under /etc/postgresql"
CONF_DIR="/etc/postgresql/$VER/$PG_CLUSTER"
HBA_FILE="$CONF_DIR/pg_hba.conf"

# ---- start if not running --------------------------------------------------
if ! is_ready; then
    log "starting PostgreSQL cluster $VER/$PG_CLUSTER"
    # Exit status is ignored (e.g. 2 = already running); readiness is checked below.
    as_root pg_ctlcluster --skip-systemctl-redirect "$VER" "$PG_CLUSTER" start </dev/null >&2 || true
fi

wait_ready() {
    local deadline=$((SECONDS + PG_WAIT_SECONDS))
    until is_ready; do
        if ((SECONDS >= deadline)); then
            log "cluster status:"
            pg_lsclusters >&2 2>/dev/null || true
            log "last lines of /var/log/postgresql/postgresql-$VER-$PG_CLUSTER.log:"
            as_root tail -n 20 "/var/log/postgresql/postgresql-$VER-$PG_CLUSTER.log" >&2 2>/dev/null || true
            die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${PG_WAIT_SECONDS}s"
        fi
        sleep 0.5
    done
}
wait_ready

# ---- trust auth for local TCP ----------------------------------------------
if ! trust_ok; then
    log "configuring trust auth for $PG_USER@$PG_HOST in $HBA_FILE"
    as_root test -f "$HBA_FILE" || die "pg_hba.conf not found at $HBA_FILE"
    # pg_hba.conf is first-match, so the trust line must come before any other rule.
    # Prepend the line and drop any older copy (it may sit below a matching password rule).
    as_root sed -i -e "1i ${HBA_LINE}" -e "\|^${HBA_LINE}\$|d" "$HBA_FILE"
    as_root pg_ctlcluster --skip-systemctl-redirect "$VER" "$PG_CLUSTER" reload </dev/null >&2
    sleep 0.2
    wait_ready
    trust_ok || die "PostgreSQL at $PG_HOST:$PG_PORT is up but user $PG_USER cannot log in without a password; check $HBA_FILE"
fi

log "PostgreSQL $VER ready at $PG_HOST:$PG_PORT (user $PG_USER, trust auth)"
