#!/bin/bash
# The headless browser the edge test drives: Debian's chromium (Playwright's own browser download is not reachable
# here; the test launches this one by path). Installs it once with apt; a no-op when it is there.
#   tools/browser.sh        prints the chromium path
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "==> installing Debian's chromium (headless browser for tests/engine/test_edge_browser.py)" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  # fonts-dejavu-core: without a font the console's screenshot has no text
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >&2
fi
"$CHROMIUM" --version >&2
echo "$CHROMIUM"
