#!/bin/bash
# Make policy/.venv (the policy pack's own virtualenv) from policy/requirements.txt; again only when it changes.
#   bash policy/venv.sh        prints the venv path
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tools/lib.sh"
ensure_venv "$HERE/.venv" "$HERE/requirements.txt"
