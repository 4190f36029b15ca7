#!/bin/sh
# whtest.sh: shell entry point of whittle's Debian test image
# (tests/build-debian-image.sh): runs through /bin/sh, then execs curl.
echo "whtest.sh: running curl --version"
exec curl --version
