#!/bin/bash
# `promtool check metrics` on one scrape of the exporter (fed by fakes): the exposition must
# lint clean. promtool exits non-zero on problems and prints them.
set -euo pipefail
dump=$1
command -v promtool >/dev/null || { echo "promtool not found (Debian package prometheus)"; exit 1; }
scrape=$("$dump")
echo "series: $(echo "$scrape" | grep -c '^sixguard_' || true)"
problems=$(echo "$scrape" | promtool check metrics 2>&1) || { echo "$problems"; exit 1; }
if [ -n "$problems" ]; then echo "$problems"; exit 1; fi
echo "promtool check metrics: clean"
