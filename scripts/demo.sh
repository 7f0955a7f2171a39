#!/usr/bin/env bash
# The README's first command: run the pipeline on an example problem with a
# spool of its own, and say where the video is (or plainly what is not built).
set -euo pipefail
bin=${1:-.build/debug}
root=$(pwd)/demo
rm -rf "$root"
mkdir -p "$root"
export MATHREEL_SPOOL=$root/spool MATHREEL_STATE=$root/state
"$bin/mathreel" up >"$root/up.log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up 2>/dev/null || true' EXIT
sleep 1
problem="Solve x^2 - 5x + 6 = 0"
missing=()
for d in codegen render deliver; do [ -x "$bin/mathreel-$d" ] || missing+=("mathreel-$d"); done
if [ ${#missing[@]} -eq 0 ]; then
  "$bin/mathreel" submit --problem "$problem" --wait --timeout 600
  exit
fi
id=$("$bin/mathreel" submit --problem "$problem" | head -n 1)
echo "demo: submitted job $id: $problem"
if [ ${#missing[@]} -eq 1 ] && [ "${missing[0]}" = mathreel-deliver ]; then
  # Code and video are made; only the link is missing.
  for _ in $(seq 1 3000); do
    [ -e "$MATHREEL_SPOOL/deliver/$id.json" ] || [ -e "$MATHREEL_SPOOL/failed/$id.json" ] && break
    sleep 0.1
  done
  "$bin/mathreel" status "$id" || true
  echo
  if [ -e "$MATHREEL_SPOOL/deliver/$id.json" ]; then
    echo "demo: the video is $MATHREEL_SPOOL/artifacts/$id/video.mp4"
    echo "demo: NOT BUILT YET: mathreel-deliver, so there is no watch link; the job waits in deliver/."
  else
    echo "demo: the job did not reach deliver/; daemon logs: $root/up.log"
  fi
  exit 1
fi
for _ in $(seq 1 50); do
  [ -e "$MATHREEL_SPOOL/codegen/$id.json" ] && break
  sleep 0.1
done
"$bin/mathreel" status "$id" || true
echo
echo "demo: NOT BUILT YET: ${missing[*]}. The job was accepted and routed to"
echo "      $MATHREEL_SPOOL/codegen/, but no video can be made until those daemons exist."
echo "      Daemon logs: $root/up.log"
exit 1
