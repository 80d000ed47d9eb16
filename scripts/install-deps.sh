#!/usr/bin/env bash
# Installs every Debian 12 package leadscore needs to build, test and benchmark.
# Idempotent: quiet and fast when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  protobuf-compiler libprotobuf-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  librdkafka-dev librocksdb-dev libboost-dev libcpp-httplib-dev   # Beast serves, httplib is the tests' client
  libjemalloc-dev   # the process's malloc (src/CMakeLists.txt says why)
  prometheus-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  prometheus kcat curl
  yamllint shellcheck docker-compose python3 python3-yaml   # scripts/check-deploy.sh, tests/deploy/
  libeigen3-dev chromium   # the calibration report: its regression, and its page rendered in a test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
