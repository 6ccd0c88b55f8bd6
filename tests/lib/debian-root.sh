# Sourced by the builders of the Debian trees the tests boot
# (tests/debian-image/build.sh, tests/systemd-container/build.sh): the
# machine's own apt sources (the only network a CI machine has) and one
# mmdebstrap run that says whether it failed for want of that network.
# The sourcing script defines missing() (records the reason, exits 77).

# debian_sources: the configured Debian sources file, or missing().
debian_sources() {
        local f
        for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
                [ -s "$f" ] && { echo "$f"; return 0; }
        done
        missing "no Debian apt sources configured (/etc/apt/sources.list.d/debian.sources)"
}

# debian_mmdebstrap WHO SUITE ROOT SOURCES LOG PACKAGES_FILE [MMDEBSTRAP OPTIONS...]:
# a minbase tree at ROOT with PACKAGES_FILE's packages (one or more per line,
# # comments) and no man pages, docs or translations. A fetch failure is
# missing(); any other failure prints the log's tail and exits 1.
debian_mmdebstrap() {
        local who=$1 suite=$2 root=$3 sources=$4 log=$5 pkgfile=$6 pkgs
        shift 6
        pkgs=$(grep -v '^#' "$pkgfile" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
        if ! mmdebstrap --variant=minbase --include="$pkgs" \
                --dpkgopt='path-exclude=/usr/share/man/*' \
                --dpkgopt='path-exclude=/usr/share/doc/*' \
                --dpkgopt='path-include=/usr/share/doc/*/copyright' \
                --dpkgopt='path-exclude=/usr/share/info/*' \
                --dpkgopt='path-exclude=/usr/share/locale/*' \
                --dpkgopt='path-exclude=/usr/share/i18n/*' \
                "$@" "$suite" "$root" "$sources" >"$log" 2>&1; then
                tail -20 "$log" >&2
                grep -qiE 'could not resolve|failed to fetch|unable to connect|temporary failure' "$log" &&
                        missing "mmdebstrap could not fetch packages from $sources (no apt network?)"
                echo "$who: mmdebstrap failed (log above)" >&2
                exit 1
        fi
}
