#!/bin/sh
# Builds the libotr peer used by test/v3-interop.test.ts. Needs gcc, pkg-config, libotr5-dev, libgcrypt20-dev
# (listed in .ci/apt-packages). Usage: build.sh <output binary>
set -eu
here=$(dirname "$0")
out=${1:-"$here/../../build/test/interop/peer"}
mkdir -p "$(dirname "$out")"
cc_bin=${CC:-cc}
# shellcheck disable=SC2046
"$cc_bin" -std=gnu99 -O1 -Wall -Wextra -Werror -o "$out" "$here/peer.c" $(pkg-config --cflags --libs libotr) -lgcrypt
