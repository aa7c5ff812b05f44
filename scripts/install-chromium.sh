#!/usr/bin/env bash
# install-chromium.sh - installs Debian's chromium (headless, for the browser upload tests)
# when it is missing. No downloaded browser builds: the distribution's package only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/servers/common.sh"
if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium from Debian"
  apt_install chromium
fi
need_cmd chromium
