#!/usr/bin/env bash
# The README's first command: run the whole pipeline on an example problem with a
# spool of its own (offline solver: no key, no network), print the watch link and
# the video's path, and stop everything.
set -euo pipefail
bin=${1:-.build/debug}
root=$(pwd)/demo
rm -rf "$root"
mkdir -p "$root"
export MATHREEL_SPOOL=$root/spool MATHREEL_STATE=$root/state
# A port of its own, so a mathreel already running on 8081 is left alone.
port=${DEMO_PORT:-18081}
export MATHREEL_DELIVERY_ADDR=127.0.0.1:$port MATHREEL_PUBLIC_URL=http://127.0.0.1:$port MATHREEL_INGEST_ADDR=127.0.0.1:$((port - 1))
export MATHREEL_PROVIDERS=offline
"$bin/mathreel" up >"$root/up.log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up 2>/dev/null || true' EXIT
problem="Solve x^2 - 5x + 6 = 0"
echo "demo: asking for a video of: $problem"
if ! out=$("$bin/mathreel" submit --problem "$problem" --wait --timeout 600); then
  echo "$out"
  echo "demo: the job did not finish; the daemons' logs are in $root/up.log"
  exit 1
fi
echo "$out"
id=$(head -n 1 <<<"$out")
# The lesson's scenes, each with its frames in the joined video.
"$bin/mathreel" status "$id" | sed -n '/^  lesson:/,/^  [a-z]*:/p' | sed '$d' || true
url=$(sed -n 's/^link: //p' <<<"$out")
video=$(sed -n 's/^video: //p' <<<"$out")
# The page is not the video: opening it does not use the link up.
code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
echo
echo "demo: watch page $url answers HTTP $code (open it in a browser; it plays once, then the video is deleted)"
echo "demo: the video is $video ($(stat -c %s "$video") bytes)"
echo "demo: logs in $root/up.log; everything is stopped now"
