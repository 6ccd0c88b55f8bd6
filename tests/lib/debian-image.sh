# The start of every test that boots the Debian test image (tests/debian-image,
# `make debian-image`; tests/integration/debian-*.sh):
#   . "$QEMUCTL_SRCDIR/tests/lib/debian-image.sh"
#   debian_image_require TAG [TOOL...]
# skips (exit 77, saying why) where the image is not built or a tool is
# missing, then sets img (the image's directory, absolute), T (a temp dir
# /tmp/qemuctl-TAG.XXXXXX, removed at exit after the test's own `cleanup`
# function, if it has one), QEMUCTL_RUNDIR=$T/run and sum0 (the base image's
# checksum). TAP: tests/lib/tap.sh, and check DESC CMD...: ok where CMD succeeds.
QEMUCTL=${QEMUCTL:-./qemuctl}
BUILD=${BUILD:-build}
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

check() { # DESC CMD...: ok where CMD succeeds
        local d=$1
        shift
        "$@"
        tap_ok $? "$d"
}

debian_image_exit() {
        declare -F cleanup >/dev/null && cleanup
        rm -rf "$T"
}

debian_image_require() { # TAG [TOOL...]
        local tag=$1 tool why
        shift
        img=$BUILD/debian-image
        if [ ! -s "$img/base.qcow2" ]; then
                why="not built (make debian-image)"
                [ -s "$img/MISSING" ] && why=$(cat "$img/MISSING")
                echo "1..0 # SKIP Debian test image: $why"
                exit 77
        fi
        for tool in qemu-system-x86_64 qemu-img genisoimage sha256sum "$@"; do
                command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 77; }
        done
        img=$(cd "$img" && pwd)
        T=$(mktemp -d "/tmp/qemuctl-$tag.XXXXXX")
        trap debian_image_exit EXIT
        export QEMUCTL_RUNDIR=$T/run
        sum0=$(sha256sum <"$img/base.qcow2")
}

debian_image_vmfile() { # NAME HOSTNAME: the VM file of the image's guest with
        # its agent (2 vCPUs, 1G, an overlay.qcow2 beside the file, user
        # networking), on stdout; img must be set (absolute)
        cat <<JSON
{ "name": "$1", "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 2 },
  "memory": { "size": "1G" },
  "disks": [ { "file": "overlay.qcow2", "backing": "$img/base.qcow2", "cache": "unsafe" } ],
  "cloud_init": { "user_data": "#cloud-config\nhostname: $2\n" },
  "net": [ { "type": "user", "model": "virtio" } ],
  "boot": { "kernel": "$img/vmlinuz", "initrd": "$img/initrd.img",
            "cmdline": "root=LABEL=root rw console=ttyS0" },
  "serial": "log",
  "guest_agent": true }
JSON
}
