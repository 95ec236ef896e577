#!/usr/bin/env bash
# Builds bench/ns3/manet-unicast.cc against the Debian ns-3.37 packages
# (apt-get install -y libns3-dev ns3). The binary goes to /tmp (never commit it).
#
# Explicit flags rather than `pkg-config ns3-aodv ...`: the Debian 3.37 .pc files carry a broken
# Cflags entry ("-I/usr\;"), and the headers are plain /usr/include/ns3/*.h anyway.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${NS3_BENCH_BIN:-/tmp/spinmesh-ns3/manet-unicast}"
mkdir -p "$(dirname "$out")"
libs=(aodv wifi mobility internet applications propagation network core)
g++ -std=c++17 -O2 -DNDEBUG \
  -o "$out" "$here/manet-unicast.cc" \
  "${libs[@]/#/-lns3-}"
echo "built $out"
