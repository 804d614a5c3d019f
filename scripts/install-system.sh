#!/usr/bin/env bash
# Debian packages the full test suite uses: headless Chromium (the widget's
# browser tests drive /usr/bin/chromium with Playwright; no browser download)
# redis-server (the server's shared-store tests start their own, on loopback),
# mosquitto (the robot's MQTT broker; its tests start their own, on loopback)
# and espeak-ng (the robot's light text-to-speech fallback).
# Installs only what is missing; quiet, and a no-op once everything is there.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
