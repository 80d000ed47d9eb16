#!/usr/bin/env bash
# Builds the leadscore container image, or runs its build stage here.
#
#   deploy/build-image.sh [--tag leadscore:dev] [--dry-run]
#       docker build -f deploy/Dockerfile from the repository root (needs docker);
#       --dry-run prints the command instead of running it.
#   deploy/build-image.sh --stage DIR [--binary PATH]
#       The Dockerfile's build stage, on this machine: installs the build dependencies
#       and builds leadscore (or takes the binary at PATH), then writes into DIR what the
#       runtime stage copies:
#         DIR/rootfs/            laid out as the image's /: the stripped binary, the
#                                health check, examples/, the default config and model
#         DIR/runtime-packages   the Debian packages that hold the shared libraries the
#                                binary names (DT_NEEDED), one a line
#       The Dockerfile runs this form; tests run it with --binary (deploy_stage_test).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

tag="leadscore:dev" stage="" binary="" dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --stage) stage="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$stage" ]; then
  version="$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo unknown)"
  cmd=(docker build -f "$root/deploy/Dockerfile" --build-arg "VERSION=$version" -t "$tag" "$root")
  if [ "$dry_run" -eq 1 ]; then echo "${cmd[*]}"; exit 0; fi
  command -v docker >/dev/null || { echo "build-image: docker is not installed; --stage DIR runs the build stage without it" >&2; exit 1; }
  exec "${cmd[@]}"
fi

# --- the build stage ---------------------------------------------------------------
if [ -z "$binary" ]; then
  bash "$root/scripts/install-deps.sh"
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DLEADSCORE_BUILD_TESTS=OFF -DLEADSCORE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$root/build" --parallel "$(nproc)" --target leadscore
  binary="$root/build/src/leadscore"
fi
[ -x "$binary" ] || { echo "build-image: no executable at $binary" >&2; exit 1; }

rm -rf "$stage/rootfs" "$stage/runtime-packages"
mkdir -p "$stage/rootfs"
r="$stage/rootfs"
install -D -m 0755 "$binary" "$r/usr/local/bin/leadscore"
strip --strip-unneeded "$r/usr/local/bin/leadscore"
install -D -m 0755 "$root/deploy/healthcheck.sh" "$r/usr/local/bin/leadscore-healthcheck"
install -d "$r/usr/share/leadscore/examples"
install -m 0644 "$root"/examples/* "$r/usr/share/leadscore/examples/"
install -D -m 0644 "$root/deploy/leadscore.yaml" "$r/etc/leadscore/leadscore.yaml"
install -D -m 0644 "$root/examples/model.yaml" "$r/etc/leadscore/model.yaml"

# The package of each library the binary names. ldd says where the loader finds it;
# with Debian 12's merged /usr a package lists it under /lib or /usr/lib, so try both.
declare -A where=()
while read -r name _ path _; do
  [ "$path" = "not" ] && { echo "build-image: $name is not found by the loader" >&2; exit 1; }
  where["$name"]="$path"
done < <(ldd "$binary" | awk '$2 == "=>" { print $1, $2, $3 }')
packages=()
for lib in $(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }'); do
  path="${where[$lib]:-}"
  [ -n "$path" ] || { echo "build-image: the loader does not resolve $lib" >&2; exit 1; }
  pkg=""
  for candidate in "$path" "/usr${path#/usr}" "${path#/usr}"; do
    pkg="$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1)" && [ -n "$pkg" ] && break
  done
  [ -n "$pkg" ] || { echo "build-image: $path belongs to no Debian package: the runtime image could not install it" >&2; exit 1; }
  packages+=("$pkg")
done
printf '%s\n' "${packages[@]}" | sort -u > "$stage/runtime-packages"
echo "build-image: staged $r; runtime packages: $(tr '\n' ' ' < "$stage/runtime-packages")"
