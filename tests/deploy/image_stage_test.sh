#!/usr/bin/env bash
# The container image's build stage without docker: deploy/build-image.sh --stage with
# the binary ctest built. The staged tree is what deploy/Dockerfile copies, and it runs.
#   image_stage_test.sh LEADSCORE_BINARY SOURCE_DIR
set -euo pipefail
binary="$1" src="$2"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bash "$src/deploy/build-image.sh" --stage "$stage" --binary "$binary"
r="$stage/rootfs"

# The runtime stage installs these: the libraries of deploy/README.md, from Debian 12
# (liblz4-1 and libzstd1 for RocksDB's compression; libjemalloc2, the malloc, except in
# a sanitizer build, which brings its own).
expected=(librdkafka1 libprotobuf32 libyaml-cpp0.7 libspdlog1.10 libfmt9 liblz4-1 libzstd1)
if ldd "$binary" | grep -q libjemalloc; then expected+=(libjemalloc2); fi
for pkg in "${expected[@]}"; do
  grep -qx "$pkg" "$stage/runtime-packages" || fail "runtime-packages lacks $pkg: $(tr '\n' ' ' < "$stage/runtime-packages")"
done
# RocksDB is linked in (src/CMakeLists.txt says why): no shared librocksdb to install.
if grep -q '^librocksdb' "$stage/runtime-packages"; then fail "the binary links the shared librocksdb"; fi
# The HTTP server is header-only Boost.Beast: cpp-httplib is only the tests' client.
if grep -q httplib "$stage/runtime-packages"; then fail "the binary still links cpp-httplib"; fi

# Everything the Dockerfile takes from the stage, and the paths its instructions name.
dockerfile="$src/deploy/Dockerfile"
while read -r from; do
  [ -e "$stage/$from" ] || fail "the Dockerfile copies /stage/$from, which the stage lacks"
done < <(sed -n 's|^COPY --from=build /stage/\([^ ]*\) .*|\1|p' "$dockerfile")
grep -q '^HEALTHCHECK .*"leadscore-healthcheck"' "$dockerfile" || fail "HEALTHCHECK does not run leadscore-healthcheck"
[ -x "$r/usr/local/bin/leadscore-healthcheck" ] || fail "no health check in the stage"
config="$(sed -n 's|^CMD \["run", "--config", "\([^"]*\)"\]|\1|p' "$dockerfile")"
if [ -z "$config" ] || [ ! -f "$r$config" ]; then fail "CMD's config '$config' is not in the stage"; fi
grep -q "^model: /etc/leadscore/model.yaml" "$r$config" || fail "the default config does not name /etc/leadscore/model.yaml"
[ -f "$r/usr/share/leadscore/examples/model.yaml" ] || fail "examples/ are not in the stage"

# The staged (stripped) binary runs and takes the staged model.
"$r/usr/local/bin/leadscore" validate --model "$r/etc/leadscore/model.yaml" || fail "the staged binary refuses the staged model"
"$r/usr/local/bin/leadscore" --help > /dev/null || fail "the staged binary does not run"

# Without --stage it builds the image with docker from the repository root.
dry="$(bash "$src/deploy/build-image.sh" --dry-run --tag leadscore:test)"
case "$dry" in
  "docker build -f $src/deploy/Dockerfile --build-arg VERSION="*" -t leadscore:test $src") ;;
  *) fail "unexpected docker command: $dry" ;;
esac
echo "image stage: ok ($(wc -l < "$stage/runtime-packages") runtime packages: $(tr '\n' ' ' < "$stage/runtime-packages"))"
