#!/usr/bin/env bash
# Installs everything qemuctl needs to build, run VMs and run its tests on
# Debian 12 (run as root). Used by README's first command and by .ci/run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
        build-essential pkg-config clang libclang-rt-14-dev \
        libjson-c-dev libnuma-dev libcap-ng-dev \
        qemu-system-x86 qemu-utils \
        busybox-static linux-image-amd64 cpio kmod gzip xz-utils zstd \
        numactl procps iproute2 socat time python3 util-linux
