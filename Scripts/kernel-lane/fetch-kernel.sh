#!/usr/bin/env bash
# fetch-kernel.sh SUITE [--refresh]
#
# Kernel lane: download Debian's cloud-flavour kernel image (vmlinuz) for SUITE
# (experimental | sid | trixie | bookworm) and print the path of the cached file on stdout.
#
# Why: the machines we build on run one kernel (one Landlock ABI). To test the library
# against older and newer Landlock ABIs we boot Debian's packaged kernels under QEMU
# (see boot.sh / run-lane.sh). This script only obtains the kernel file.
#
# How (see shared testing-kernels notes):
#   * a *private* apt state directory is used (own sources list, lists, cache, empty
#     dpkg status): the machine's apt configuration and package state are not touched;
#   * the archive URI and Signed-By keyring are read at run time from the machine's own
#     apt sources (/etc/apt/sources.list.d/*.sources, *.list, /etc/apt/sources.list);
#     no mirror host is written in this repository. Override with
#     LANDLOCK_KERNEL_MIRROR=<uri> and LANDLOCK_KERNEL_KEYRING=<file> if needed;
#   * linux-image-cloud-amd64 is resolved to linux-image-<abiname>-cloud-amd64 (where a
#     suite has no such metapackage, the linux-image-<abiname>-cloud-amd64 with the highest
#     package version is taken; experimental carries release candidates only); the
#     package that really holds vmlinuz is found by looking inside the candidates
#     (linux-binary-<abiname>-cloud-amd64 on newer suites, the linux-image package
#     itself on bookworm/trixie);
#   * vmlinuz is cached in
#       ${LANDLOCK_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swift-landlock/kernels}/<suite>/vmlinuz
#     with a small "info" file (package, version, kernel release). A cached kernel is
#     reused without any network access; pass --refresh (or LANDLOCK_KERNEL_REFRESH=1)
#     to resolve the suite's current kernel again.
#
# Works as root on a fresh Debian machine (apt-get and dpkg-deb are all it needs); it
# runs `apt-get update` only for its private lists.
set -euo pipefail
trap 'echo "fetch-kernel.sh: command failed (status $?) at line $LINENO" >&2' ERR

usage() {
    echo "usage: $0 SUITE [--refresh]   (SUITE: experimental | sid | trixie | bookworm)" >&2
    exit 2
}

log() { echo "fetch-kernel: $*" >&2; }
die() {
    echo "fetch-kernel: error: $*" >&2
    exit 1
}

suite=""
refresh="${LANDLOCK_KERNEL_REFRESH:-}"
while [ $# -gt 0 ]; do
    case "$1" in
    --refresh) refresh=1 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *)
        [ -z "$suite" ] || usage
        suite="$1"
        ;;
    esac
    shift
done
case "$suite" in
sid | unstable | trixie | bookworm | forky | experimental) ;;
"") usage ;;
*) die "unsupported suite '$suite' (expected experimental, sid, trixie or bookworm)" ;;
esac

cache_root="${LANDLOCK_KERNEL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/swift-landlock/kernels}"
dest="$cache_root/$suite"
mkdir -p "$dest"

# Serialize concurrent fetches of the same suite.
exec 9>"$dest/.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

if [ -z "$refresh" ] && [ -s "$dest/vmlinuz" ]; then
    echo "$dest/vmlinuz"
    exit 0
fi

for tool in apt-get apt-cache dpkg dpkg-deb; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found: this script needs a Debian-style host with apt"
done

# --- find the archive URI and keyring the machine's apt already uses ----------------
# Prints "URI<TAB>SIGNED-BY" for each enabled 'deb' source with component 'main',
# the main archive (suite without '-security'/'-updates'/'/updates', URI without
# 'security') first. SIGNED-BY is a file path or empty.
apt_etc="${LANDLOCK_APT_ETC:-/etc/apt}" # overridable for testing the parser
list_sources() {
    local f
    {
        for f in "$apt_etc"/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            # deb822: paragraphs separated by blank lines; continuation lines start
            # with a space. Embedded (inline) keys in Signed-By are skipped: only a
            # keyring *file* can be reused.
            awk '
                function flush() {
                    if (types ~ /(^|[ \t])deb([ \t]|$)/ && comps ~ /(^|[ \t])main([ \t]|$)/ &&
                        tolower(enabled) != "no" && uris != "") {
                        n = split(uris, u, /[ \t]+/)
                        for (i = 1; i <= n; i++) if (u[i] != "")
                            printf "%s\t%s\t%s\n", u[i], signed, suites
                    }
                    types = ""; uris = ""; suites = ""; comps = ""; signed = ""; enabled = ""; key = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                /^[ \t]/ { next }      # continuation line (inline key block): ignore
                {
                    key = tolower($0); sub(/:.*/, "", key)
                    val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                    if (key == "types") types = val
                    else if (key == "uris") uris = val
                    else if (key == "suites") suites = val
                    else if (key == "components") comps = val
                    else if (key == "enabled") enabled = val
                    else if (key == "signed-by" && val ~ /^\//) signed = val
                }
                END { flush() }
            ' "$f"
        done
        for f in "$apt_etc/sources.list" "$apt_etc"/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            # one-line format: deb [opt=val ...] URI SUITE COMPONENT...
            awk '
                /^[ \t]*deb[ \t]/ {
                    line = $0; sub(/#.*/, "", line)
                    signed = ""
                    if (match(line, /\[[^]]*\]/)) {
                        opts = substr(line, RSTART + 1, RLENGTH - 2)
                        line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
                        n = split(opts, o, /[ \t]+/)
                        for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) { signed = o[i]; sub(/^signed-by=/, "", signed) }
                    }
                    n = split(line, w, /[ \t]+/)
                    k = 0
                    for (i = 1; i <= n; i++) if (w[i] != "") x[++k] = w[i]
                    hasmain = 0
                    for (i = 4; i <= k; i++) if (x[i] == "main") hasmain = 1
                    if (k >= 4 && hasmain) printf "%s\t%s\t%s\n", x[2], signed, x[3]
                }
            ' "$f"
        done
    } | awk -F '\t' '
        # rank: 0 = main archive, 1 = updates/security style entries
        { r = ($1 ~ /security/ || $3 ~ /(-security|-updates|\/updates|-backports)/) ? 1 : 0
          printf "%d\t%s\t%s\n", r, $1, $2 }
    ' | sort -s -t "$(printf '\t')" -k1,1n | cut -f2-
}

mirror="${LANDLOCK_KERNEL_MIRROR:-}"
keyring="${LANDLOCK_KERNEL_KEYRING:-}"
if [ -z "$mirror" ]; then
    first="$(list_sources | awk 'NR == 1' || true)"
    [ -n "$first" ] || die "no enabled 'deb ... main' source found under $apt_etc; set LANDLOCK_KERNEL_MIRROR=<Debian archive URI> (and LANDLOCK_KERNEL_KEYRING=<keyring file>)"
    mirror="${first%%$'\t'*}"
    if [ -z "$keyring" ]; then
        keyring="${first#*$'\t'}"
    fi
fi
mirror="${mirror%/}"
if [ -z "$keyring" ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
fi
[ -z "$keyring" ] || [ -r "$keyring" ] || die "keyring '$keyring' not readable"

# --- private apt state ----------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/kernel-lane-apt.XXXXXX")"
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/prefs" "$work/dl"
: >"$work/status"
# apt's download sandbox user (_apt) must be able to write into these directories.
chmod 0755 "$work"
chmod 0777 "$work/dl" "$work/lists/partial" "$work/cache/archives/partial" 2>/dev/null || true

{
    echo "Types: deb"
    echo "URIs: $mirror"
    echo "Suites: $suite"
    echo "Components: main"
    echo "Architectures: amd64"
    [ -z "$keyring" ] || echo "Signed-By: $keyring"
} >"$work/parts/lane.sources"

apt_opts=(
    -o "Dir::Etc::sourcelist=/dev/null"
    -o "Dir::Etc::sourceparts=$work/parts"
    -o "Dir::Etc::preferences=/dev/null"
    -o "Dir::Etc::preferencesparts=$work/prefs"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::State::status=$work/status"
    -o "Dir::Cache=$work/cache"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64"
    -o "Acquire::Languages=none"
    -o "Debug::NoLocking=1"
)

log "resolving linux-image-cloud-amd64 in '$suite' (private apt state)"
if ! apt-get "${apt_opts[@]}" -q update >"$work/update.log" 2>&1 ||
    grep -qE '^(E:|W: (GPG|The repository|Failed))' "$work/update.log"; then
    cat "$work/update.log" >&2
    die "apt-get update of the private '$suite' lists failed (archive URI taken from the machine's apt sources)"
fi

image_pkg="$(apt-cache "${apt_opts[@]}" depends linux-image-cloud-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | awk 'NR == 1' || true)"
if [ -n "$image_pkg" ]; then
    log "$suite: linux-image-cloud-amd64 -> $image_pkg"
else
    # No metapackage (a suite may carry only the versioned packages): take the
    # linux-image-<abiname>-cloud-amd64 with the highest package version.
    best_version=""
    while read -r pkg; do
        v="$(apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | awk 'NR == 1')"
        [ -n "$v" ] || continue
        if [ -z "$best_version" ] || dpkg --compare-versions "$v" gt "$best_version"; then
            best_version="$v"
            image_pkg="$pkg"
        fi
    done < <(apt-cache "${apt_opts[@]}" pkgnames linux-image- 2>/dev/null | grep -E '^linux-image-[0-9][^ ]*-cloud-amd64$' || true)
    [ -n "$image_pkg" ] || die "could not resolve linux-image-cloud-amd64 in '$suite', and it has no linux-image-<version>-cloud-amd64"
    log "$suite: no linux-image-cloud-amd64; newest versioned image: $image_pkg $best_version"
fi
abiname="${image_pkg#linux-image-}"
abiname="${abiname%-cloud-amd64}"

# Candidate packages that may carry the kernel image, in order of likelihood.
candidates=()
while read -r dep; do
    case "$dep" in linux-binary-*) candidates+=("$dep") ;; esac
done < <(apt-cache "${apt_opts[@]}" depends "$image_pkg" 2>/dev/null | sed -n 's/^ *|\{0,1\}Depends: \([^ <]*\)$/\1/p')
candidates+=("$image_pkg" "linux-binary-$abiname-cloud-amd64" "linux-image-$abiname-cloud-amd64-unsigned")

found=""
seen=" "
for pkg in "${candidates[@]}"; do
    case "$seen" in *" $pkg "*) continue ;; esac
    seen="$seen$pkg "
    apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" >/dev/null 2>&1 || continue
    log "downloading $pkg"
    rm -f "$work"/dl/*.deb
    (cd "$work/dl" && apt-get "${apt_opts[@]}" -q download "$pkg" >"$work/download.log" 2>&1) || {
        cat "$work/download.log" >&2
        die "apt-get download $pkg failed"
    }
    deb="$(ls "$work"/dl/*.deb)"
    member="$(dpkg-deb -c "$deb" | awk '{print $NF}' |
        grep -E '(^|/)(boot/vmlinuz-[^/]+|(usr/)?lib/modules/[^/]+/vmlinuz)$' | awk 'NR == 1' || true)"
    if [ -n "$member" ]; then
        found="$pkg"
        break
    fi
    log "$pkg has no vmlinuz, trying the next candidate"
done
[ -n "$found" ] || die "no package holding vmlinuz found for $image_pkg (tried: ${candidates[*]})"

mkdir -p "$work/x"
dpkg-deb -x "$deb" "$work/x"
src="$work/x/${member#./}"
[ -s "$src" ] || die "vmlinuz missing after extracting $found"
version="$(dpkg-deb -f "$deb" Version)"
case "$member" in
*/boot/vmlinuz-*) release="${member##*/vmlinuz-}" ;;
*) release="$(basename "$(dirname "$member")")" ;;
esac

cp "$src" "$dest/vmlinuz.tmp"
mv -f "$dest/vmlinuz.tmp" "$dest/vmlinuz"
printf 'suite=%s\npackage=%s\nversion=%s\nrelease=%s\n' "$suite" "$found" "$version" "$release" >"$dest/info"
log "$suite: cached $found $version (kernel $release)"
echo "$dest/vmlinuz"
