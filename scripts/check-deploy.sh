#!/usr/bin/env bash
# Lints deploy/ as far as Debian's tools go (deploy/README.md says what is and is not
# checked); run by .ci/run. Needs no build. Every step runs; the failures are listed at
# the end and make the exit status 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=()
step() {  # step NAME COMMAND...: runs it, says how it went and how long it took
  local name="$1" start=$SECONDS
  shift
  if "$@" > "$tmp/out" 2>&1; then
    echo "check-deploy: ok   $name ($((SECONDS - start)) s)"
  else
    echo "check-deploy: FAIL $name"
    sed 's/^/    /' "$tmp/out"
    failed+=("$name")
  fi
}

dashboards=(deploy/grafana/*.json)
rules=deploy/prometheus/leadscore-rules.yml

step "yamllint (deploy/yamllint.yml)" yamllint -c deploy/yamllint.yml --strict deploy examples
step "promtool check rules" promtool check rules "$rules"
step "promtool test rules" promtool test rules deploy/prometheus/leadscore-rules.test.yml
step "promtool check config (compose's prometheus.yml)" promtool check config deploy/prometheus/prometheus.yml
for d in "${dashboards[@]}"; do
  step "JSON: $d" python3 -m json.tool "$d" /dev/null
  # Every query of the dashboard is PromQL that Prometheus parses (as recording rules).
  step "PromQL of $d" bash -c "python3 scripts/deploy_queries.py as-rules '$d' > '$tmp/queries.yml' && promtool check rules '$tmp/queries.yml'"
done
step "docker-compose config (deploy/docker-compose.yml)" docker-compose -f deploy/docker-compose.yml config -q
step "shellcheck" shellcheck deploy/build-image.sh deploy/healthcheck.sh scripts/check-deploy.sh tests/deploy/image_stage_test.sh
if command -v systemd-analyze >/dev/null; then
  # verify wants ExecStart's binary to exist: any executable will do for the unit's syntax.
  sed "s|/usr/local/bin/leadscore|$(command -v true)|" deploy/leadscore.service > "$tmp/leadscore.service"
  step "systemd-analyze verify leadscore.service" bash -c "out=\$(systemd-analyze verify '$tmp/leadscore.service' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
else
  echo "check-deploy: skip systemd-analyze verify (systemd is not installed)"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "check-deploy: ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "check-deploy: all passed"
