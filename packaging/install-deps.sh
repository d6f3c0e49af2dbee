#!/usr/bin/env bash
# Installs every Debian 12 package that Lifeline's build, app and tests need.
# Idempotent: when everything is present it prints one line and changes nothing.
# Usage: packaging/install-deps.sh            (as root, or with sudo available)
set -euo pipefail

# Build: compiler, CMake, and the -dev packages of every library we link.
build_packages=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libwxgtk3.2-dev libsdl2-dev
  libvpx-dev libavcodec-dev libavutil-dev libyuv-dev
  libssl-dev libprotobuf-dev protobuf-compiler
  libx11-dev libxext-dev libxdamage-dev libxfixes-dev libxtst-dev libxrandr-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libpng-dev zlib1g-dev
  libqrencode-dev libswscale-dev
  libcurl4-openssl-dev libproxy-dev libasio-dev libsqlite3-dev
  libsecret-1-dev gettext
  catch2
)
# Tests: a real X server, a window manager, X tools, real proxies (squid with Basic,
# Digest and NTLM helpers; dante for SOCKS5), libproxy's PAC runner, a Secret Service
# (gnome-keyring on a private D-Bus) for the keyring tests, and openssl for test certificates.
test_packages=(
  xvfb xauth x11-utils x11-xserver-utils xdotool openbox
  squid apache2-utils dante-server libproxy-tools libproxy1-plugin-webkit openssl
  dbus dbus-x11 gnome-keyring libsecret-tools
)

wanted=("${build_packages[@]}" "${test_packages[@]}")
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
lists_age_s=$(( $(date +%s) - $(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0) ))
if [[ ! -d /var/lib/apt/lists/partial ]] || [[ $lists_age_s -gt 86400 ]] \
   || ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
  "${sudo_cmd[@]}" apt-get update -qq
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
