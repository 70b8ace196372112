#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, only those missing.
# Package installs must not start Debian's own nginx (port 80) or its
# PostgreSQL cluster (port 5432): the project runs its own instances.
set -euo pipefail

packages=(
    build-essential pkg-config openssl
    nginx nginx-dev
    postgresql-15 libpq-dev
    libjansson-dev libjwt-dev libssl-dev
    libcmocka-dev
    libcairo2-dev libpango1.0-dev fonts-dejavu-core poppler-utils
    python3 python3-pytest python3-requests python3-psycopg
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    added_policy=1
fi
trap '[[ $added_policy -eq 1 ]] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
