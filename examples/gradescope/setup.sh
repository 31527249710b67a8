#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu, as root).
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip python3-venv bubblewrap
# your-org/mhajudge: where your copy of mhajudge lives (a fork, or a PyPI name); edit it
python3 -m venv /opt/mhajudge && /opt/mhajudge/bin/pip install "mhajudge @ git+https://github.com/your-org/mhajudge"
ln -sf /opt/mhajudge/bin/mhajudge /usr/local/bin/mhajudge
