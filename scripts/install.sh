#!/usr/bin/env bash
# Set up .venv with skfsrcnn. Usage: bash scripts/install.sh [EXTRAS], e.g. "test" or "test,docs".
# torch==2.13.0 is installed first: an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
extras=${1:-}
if [[ ,$extras, == *,test,* ]] && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    # A virtual X server and the libraries Qt 6 needs for the napari tests.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb libxcb-icccm4 libxcb-keysyms1 \
        libgl1 libegl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0 \
        libxcb-render-util0 libxcb-image0 libxcb-shape0 libdbus-1-3 libfontconfig1 libglib2.0-0 >/dev/null
fi
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
