#!/usr/bin/env bash
# Rolling restart of every target of one Portico upstream, one instance at a time:
# drain it (waiting for its in-flight requests), run your restart command, wait until
# Portico's health check passes again, enable it, and move on to the next.
#
#   examples/rolling-restart.sh [-a ADMIN] [-w WAIT] [-t TIMEOUT] UPSTREAM COMMAND...
#
# COMMAND runs once per target, with the target's address in $TARGET (host:port) and its port
# in $PORT, so one command can restart either instance:
#
#   examples/rolling-restart.sh app 'systemctl restart "app@$PORT"'
#
# The upstream needs a `healthCheck`: without one Portico cannot tell when the restarted
# instance is ready, and the script refuses to go on. Needs bash and curl only.
set -euo pipefail
set -f   # no globbing: an IPv6 target such as [::1]:8000 is a bracket expression to the shell

admin=http://127.0.0.1:9901   # the `admin:` address of routes.yaml
wait=30s                      # how long a drain may wait for in-flight requests
timeout=120                   # seconds to wait for a restarted target to pass its health check

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts 'a:w:t:h' opt; do
  case $opt in
    a) admin=${OPTARG%/} ;;
    w) wait=$OPTARG ;;
    t) timeout=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
upstream=$1
shift
command=$*

log() { printf '%s rolling-restart: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# -f: an HTTP error (404: unknown upstream or target) stops the script; -g: [::1] is no URL glob.
api() { curl -fsSg "$@"; }
field() { grep -o "\"$1\": *[^,}]*" | head -n 1 | sed 's/^[^:]*: *//; s/"//g'; }

# The targets, as the admin API names them (host:port), one per line.
targets=$(api "$admin/upstreams/$upstream" | grep -o '"target": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')
[ -n "$targets" ] || { log "upstream $upstream has no targets"; exit 1; }

for target in $targets; do
  url="$admin/upstreams/$upstream/targets/$target"
  if [ "$(api "$url" | field lastCheck)" = null ]; then
    log "upstream $upstream has no healthCheck: cannot tell when $target is ready; add one and reload"
    exit 1
  fi

  log "draining $target (waiting up to $wait)"
  state=$(api -X POST "$url/drain?wait=$wait" | field state)
  [ "$state" = drained ] || log "$target still has long-lived streams (WebSockets, SSE); the restart ends them"

  log "restarting $target: $command"
  restarted_at=$((($(date +%s) + 1) * 1000))   # the next whole second: later than any check begun before
  if ! TARGET=$target PORT=${target##*:} bash -c "$command"; then
    log "restart command failed; $target stays drained, the other targets keep serving"
    exit 1
  fi

  # Healthy, with a passed check that started after the restart command returned: a check
  # from before the restart proves nothing about the new process.
  deadline=$(($(date +%s) + timeout))
  until view=$(api "$url") &&
    [ "$(printf '%s' "$view" | field healthy)" = true ] &&
    [ "$(printf '%s' "$view" | field at)" -ge "$restarted_at" ] &&
    [ "$(printf '%s' "$view" | field ok)" = true ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "$target not healthy after ${timeout}s; it stays drained, the other targets keep serving"
      exit 1
    fi
    sleep 1
  done

  api -X POST "$url/enable" > /dev/null
  log "$target is back in service"
done
log "all targets of $upstream restarted"
