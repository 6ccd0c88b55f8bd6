#!/usr/bin/env bash
# Installs everything qemuctl needs to build, run VMs and run its tests on
# Debian 12 (run as root): the packages listed in packages.txt.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2046 # one package per word
apt-get install -y -q --no-install-recommends $(grep -v '^#' packages.txt)
