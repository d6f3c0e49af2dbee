#!/bin/bash
# Screenshots of the desktop app for review: main window, Remote Service dialog (empty,
# with field problems, filled), About box, consent prompt, session overlay and receipt,
# in English and Italian. PNG files go to BUILD_DIR/screenshots/<language>/.
#
# usage: tests/desktop/screenshots.sh [BUILD_DIR]   (default: build)
# Starts its own Xvfb (and a headless viewer to get the prompts and the overlay); stops
# everything it started by PID.
set -euo pipefail
build=$(realpath "${1:-build}")
lifeline="$build/app/lifeline"
[ -x "$lifeline" ] || { echo "no $lifeline: build the 'lifeline' target first" >&2; exit 1; }
work=$(mktemp -d /tmp/lifeline-shots-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>/dev/null &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/display" ] && break; sleep 0.05; done
export DISPLAY=":$(cat "$work/display")" NO_AT_BRIDGE=1
unset DBUS_SESSION_BUS_ADDRESS

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for language in en it; do
  out="$build/screenshots/$language"
  mkdir -p "$out" "$work/$language/config/lifeline"
  printf '[host]\nlisten = "127.0.0.1:%s"\n[ui]\nlanguage = "%s"\n' "$port" "$language" \
    > "$work/$language/config/lifeline/settings.toml"
  cat > "$work/$language/script" <<SCRIPT
ready
wait-listening
shot $out/main.png
open-settings
sleep 300
shot $out/settings.png
set enable 1
set proxy_manual 1
set proxy_host bad_host!
set proxy_port 70000
set account_other 1
sleep 300
shot $out/settings-problems.png
set organisation_id ORG-4711
set verification_code vc-93a1
set proxy_host proxy.corp.example
set proxy_port 3128
set proxy_auth 1
set proxy_user alice
set proxy_password secret
set proxy_domain CORP
set service_user svc
set service_password secret
press save
feedback
sleep 300
shot $out/settings-saved.png
close-settings
about
sleep 300
shot $out/about.png
close-about
wait-consent 20000
sleep 300
shot $out/consent.png
consent accept
wait-overlay 15000
sleep 1200
shot $out/overlay.png
disconnect
wait-no-overlay 10000
sleep 300
shot $out/receipt.png
receipt-close
quit
SCRIPT
  rm -f "$work/$language/out"
  XDG_CONFIG_HOME="$work/$language/config" LIFELINE_GUI_TEST_SCRIPT="$work/$language/script" \
    LIFELINE_GUI_TEST_OUTPUT="$work/$language/out" "$lifeline" 2>"$work/$language/log" &
  gui=$!
  pids+=($gui)
  for _ in $(seq 200); do grep -q '^shot=.*about.png' "$work/$language/out" 2>/dev/null && break; sleep 0.1; done
  password=$(grep '^password=' "$work/$language/out" | head -1 | cut -d= -f2)
  echo "$password" | XDG_CONFIG_HOME="$work/viewer" timeout 30 "$lifeline" view \
    "127.0.0.1:$port" --headless --duration 20 >"$work/$language/viewer.log" 2>&1 &
  viewer=$!
  pids+=($viewer)
  wait "$gui" || true
  kill "$viewer" 2>/dev/null || true
  wait "$viewer" 2>/dev/null || true
  grep '^shot=' "$work/$language/out" | cut -d= -f2
done
