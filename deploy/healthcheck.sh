#!/usr/bin/env bash
# The container's health check: GET /healthz on the service's own port with nothing but
# bash (the runtime image has no curl). Exit 0 on HTTP 200, 1 otherwise.
#   leadscore-healthcheck [PORT [PATH]]     defaults: $LEADSCORE_HTTP_PORT or 8080, /healthz
set -uo pipefail
port="${1:-${LEADSCORE_HTTP_PORT:-8080}}"
path="${2:-/healthz}"
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
IFS= read -r -t 5 status <&3 || { echo "no answer from 127.0.0.1:$port$path"; exit 1; }
case "$status" in
  "HTTP/1."[01]" 200"*) exit 0 ;;
  *) echo "127.0.0.1:$port$path: ${status%$'\r'}"; exit 1 ;;
esac
