#!/usr/bin/env bash
# Debian packages the full test suite uses: headless Chromium (the widget's
# browser tests drive /usr/bin/chromium with Playwright; no browser download),
# redis-server (the server's shared-store tests start their own, on loopback),
# Request Tracker 5 with its standalone server and SQLite driver (the ticketing
# tests set up and start their own RT on loopback; tests/adapters/rt_server.py),
# tesseract-ocr with its English data (OCR of scanned PDFs, grokassist[ocr]),
# mosquitto (the robot's MQTT broker; its tests start their own, on loopback)
# and espeak-ng (the robot's light text-to-speech fallback).
# Installs only what is missing; quiet, and a no-op once everything is there.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
command -v redis-server >/dev/null || need+=(redis-server)
dpkg -s request-tracker5 >/dev/null 2>&1 || need+=(request-tracker5)
[ -x /usr/share/request-tracker5/libexec/rt-server ] || need+=(rt5-standalone)
dpkg -s rt5-db-sqlite >/dev/null 2>&1 || need+=(rt5-db-sqlite)
command -v tesseract >/dev/null || need+=(tesseract-ocr tesseract-ocr-eng)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
