#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers: a JACK server with the
# dummy driver (jackd2), Lua 5.4 for the REAPER scripts, liblo's oscsend/oscdump,
# and node for the Max for Live JavaScript. Does nothing for what is present.
set -u
need=()
command -v jackd >/dev/null 2>&1 || need+=(jackd2)
command -v jack_midi_dump >/dev/null 2>&1 || need+=(jackd2)
command -v lua5.4 >/dev/null 2>&1 || need+=(lua5.4)
command -v oscsend >/dev/null 2>&1 || need+=(liblo-tools)
command -v node >/dev/null 2>&1 || need+=(nodejs)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "system packages missing (${need[*]}); run as root to install them; the tests that need them will skip" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# jackd2 asks whether to enable realtime scheduling: answer no, non-interactively.
echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq >/dev/null 2>&1 || echo "apt-get update failed; trying the install anyway" >&2
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  echo "could not install ${need[*]}; the tests that need them will skip" >&2
fi
exit 0
