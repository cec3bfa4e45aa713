#!/usr/bin/env bash
# Installs the Debian packages accelbench builds with (run as root, or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config python3
  libeigen3-dev libfmt-dev nlohmann-json3-dev doctest-dev libbenchmark-dev libcli11-dev
  opencl-headers opencl-clhpp-headers ocl-icd-opencl-dev pocl-opencl-icd clinfo
  libsqlite3-dev sqlite3 libpq-dev postgresql
  clang libclang-rt-dev
  libbenchmark-tools python3-numpy python3-scipy
  chromium  # the HTML report's test renders it in a real browser
  slurm-wlm munge  # the fleet test's single-node Slurm cluster
  python3-kubernetes python3-yaml  # the Kubernetes manifest's schema check
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
