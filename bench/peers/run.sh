#!/bin/sh
# Peers side by side (see run_peers.py --help and docs/PEERS.md). Uses the system Python, which
# is where Debian's python3-numpy and python3-torch install.
exec /usr/bin/python3 "$(dirname "$0")/run_peers.py" "$@"
