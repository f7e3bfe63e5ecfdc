#!/usr/bin/env bash
# Make sure a headless Chromium is on PATH for the browser test of the admin page (tests/e2e/test_admin_page.py).
#
# Idempotent. Fast path (`chromium` on PATH) takes no time. Otherwise: install Debian's `chromium` package with
# apt-get (never `playwright install`, never a browser download from elsewhere: the package comes from the
# distribution's mirrors, signed, like PostgreSQL in ensure_postgres.sh).
set -euo pipefail

log() { echo "ensure_chromium: $*" >&2; }
die() { echo "ensure_chromium: ERROR: $*" >&2; exit 1; }

# ---- fast path -------------------------------------------------------------
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

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

# ---- install ---------------------------------------------------------------
command -v apt-get >/dev/null 2>&1 ||
    die "chromium is not installed and apt-get is not available; install Chromium manually (a \`chromium\` on PATH)"
log "chromium not installed; installing Debian's package (this takes a while)"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium </dev/null >/dev/null

command -v chromium >/dev/null 2>&1 || die "apt-get installed chromium but \`chromium\` is not on PATH"
log "$(chromium --version 2>/dev/null || echo chromium) ready at $(command -v chromium)"
