#!/usr/bin/env bash
# Installs what the test suite needs beyond the JDK and Maven, from Debian's packages, when missing:
# Chromium and its driver for the browser tests (ReportBrowserTest, DashboardBrowserTest, tag "browser");
# PostgreSQL's server binaries for the service's shared-database test (ServerPostgresTest starts
# a throwaway cluster with initdb/pg_ctl; no system service is used).
# Safe to run repeatedly; needs root (CI runs as root) or sudo.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-deps: chromium, chromium-driver and postgresql already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "ci-deps: need root to install ${missing[*]} (apt-get); run as root or install them by hand" >&2
    exit 1
  fi
fi
echo "ci-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
