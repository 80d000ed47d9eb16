#!/usr/bin/env bash
# The README's quickstart, run as written: the command blocks after the markers
# <!-- quickstart:service --> and <!-- quickstart:client --> are taken from README.md and
# run from the repository with two substitutions only: the leadscore binary under test
# for build/src/leadscore, and the bootstrap address the service printed for
# 127.0.0.1:PORT. Needs kcat and curl (scripts/install-deps.sh) and port 8080, which the
# quickstart's config names. Every wait is bounded; nothing sleeps.
#
#   tests/quickstart_test.sh SOURCE_DIR LEADSCORE_BINARY
set -euo pipefail
src=$(cd "$1" && pwd)
leadscore=$2
work=$(mktemp -d)
pid=""
fail() {
  echo "quickstart: $*" >&2
  for f in service.sh client.sh service.log client.out; do
    [ -f "$work/$f" ] && { echo "--- $f" >&2; cat "$work/$f" >&2; }
  done
  exit 1
}
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

for tool in kcat curl; do command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh installs it)"; done

# The fenced block after a marker line.
block() {
  awk -v marker="<!-- quickstart:$1 -->" '
    $0 == marker { found = 1; next }
    found == 1 && /^```/ { found = 2; next }
    found == 2 && /^```/ { exit }
    found == 2 { print }' "$src/README.md"
}
block service > "$work/service.sh"
block client > "$work/client.sh"
grep -q '^build/src/leadscore run ' "$work/service.sh" || fail "no 'build/src/leadscore run' in the README's service block"
grep -q '^B=127\.0\.0\.1:PORT' "$work/client.sh" || fail "no 'B=127.0.0.1:PORT' in the README's client block"
# exec: the shell becomes leadscore, so $! below is the service's own pid.
sed -i "s#^build/src/leadscore #exec $leadscore #" "$work/service.sh"

# Something else on 8080 would answer the view, or the service would refuse to start.
curl_rc=0
curl -s -o /dev/null --max-time 5 http://127.0.0.1:8080/ || curl_rc=$?
[ "$curl_rc" -eq 7 ] || fail "port 8080 is in use (curl exit $curl_rc): the quickstart's config needs it"

cd "$src"
mkfifo "$work/stdout"
bash "$work/service.sh" > "$work/stdout" 2> "$work/service.log" &
pid=$!
exec 3< "$work/stdout"
line=""
read -r -t 60 line <&3 || fail "the service printed no bootstrap address within 60 s"
case "$line" in
  "bootstrap: "*) bootstrap=${line#bootstrap: } ;;
  *) fail "expected 'bootstrap: HOST:PORT' first on stdout, got '$line'" ;;
esac
sed -i "s#^B=127\.0\.0\.1:PORT#B=$bootstrap#" "$work/client.sh"

# The client block as a user runs it; kcat -c 2 and the view loop wait, bounded here.
timeout 120 bash -e "$work/client.sh" > "$work/client.out" 2>&1 || fail "the client block failed or took over 120 s"

out="$work/client.out"
[ "$(grep -c '^{"routing_id":"[0-9a-f]\{32\}"' "$out")" -eq 2 ] || fail "expected 2 routing events as JSON lines"
grep '"entity":"LEAD"' "$out" | grep '"lead_id":"ana"' | grep -q '"from_tier":"low","to_tier":"\(medium\|high\)","direction":"UP"' ||
  fail "no routing event ana up from low"
grep '^{"lead_id":"ana"' "$out" | grep -q '"tier":"high"' || fail "the view of ana does not say tier high"
if grep -q 'error=' "$out"; then fail "records went to the dead-letter topic"; fi

# SIGTERM finishes the batch, commits and exits 0.
kill -TERM "$pid"
timeout 60 tail --pid="$pid" -f /dev/null || fail "the service did not stop within 60 s of SIGTERM"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "the service exited $rc after SIGTERM"
cat "$out"
echo "quickstart: as written in README.md: routing events as JSON, ana high, no dead letters"
