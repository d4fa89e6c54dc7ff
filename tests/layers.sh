#!/bin/sh
# Layers run one way: every call between object files of BUILD must go to a
# module of the same layer or a lower one (tests/layers.list), and no modules
# may call each other in a circle.  Reads `nm --defined-only` (who defines a
# symbol) and `nm -u` (who uses it) of each BUILD/obj/*.o.
#
# Names say where they live: every symbol daemon/NAME.c exports starts with
# NAME_ (or is NAME), or, for a file of a family (FAMILY_PART.c, such as
# store_pairs.c or ctl_cmds.c), with FAMILY_.  The programs export main.
#
#   sh tests/layers.sh [BUILD]      (after `make`; BUILD defaults to build)
#
# Prints every call that runs back up, with the symbols, every circle, and
# every exported name without its prefix;
# then a line of figures ("checks(BUILD) layers: ...", not test cases) and
# "layers(BUILD): N passed, N failed, 0 skipped" over three cases (calls run
# down the layers; no circle; exported names carry their prefix);
# exit status 1 when anything is wrong.
set -u

BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
LIST=tests/layers.list
b=$(basename "$BUILD")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mentord-layers.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

found=0
for o in "$BUILD"/obj/*.o; do
    [ -f "$o" ] || continue
    m=$(basename "$o" .o)
    # An object left from a source file that was since moved or removed is
    # not part of the program; a stale build tree must not fail the check.
    [ -f "daemon/$m.c" ] || continue
    found=1
    nm --defined-only -g "$o" | awk -v m="$m" 'NF == 3 { print $3, m }' >>"$tmp/defs"
    nm -u "$o" | awk -v m="$m" '{ print $NF, m }' >>"$tmp/uses"
done
if [ $found -eq 0 ]; then
    echo "layers: no object files in $BUILD/obj (run make first)"
    echo "layers($b): 0 passed, 3 failed, 0 skipped"
    exit 1
fi
sort -o "$tmp/defs" "$tmp/defs"
# Exported names without their file's prefix: "symbol module" lines.  Names
# the compiler makes (reserved, "__...", as ASan's __odr_asan.NAME) are not ours.
awk '{ m = $2; f = m; sub(/_.*/, "", f)
       if ($1 !~ /^__/ && $1 != m && index($1, m "_") != 1 && index($1, f "_") != 1 && $1 != "main") print }' \
    "$tmp/defs" >"$tmp/names"
sort -o "$tmp/uses" "$tmp/uses"
# symbol caller callee, for calls between two different modules
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3' >"$tmp/calls"

awk -v list="$LIST" -v b="$b" -v objdir="$BUILD/obj" -v names="$tmp/names" '
    BEGIN {
        while ((getline line < list) > 0) {
            sub(/#.*/, "", line)
            n = split(line, w, /[ \t]+/)
            if (n < 2 || w[1] == "") continue
            depth++
            lname[depth] = w[1]
            for (i = 2; i <= n; i++) layer[w[i]] = depth
        }
    }
    FILENAME == names {
        printf "layers: %s exports %s without its prefix (%s_)\n", $2, $1, $2
        nname++
        next
    }
    {
        sym = $1; from = $2; to = $3
        mods[from] = 1; mods[to] = 1
        if (!((from, to) in edge)) { edge[from, to] = 1; syms[from, to] = sym }
        else if (length(syms[from, to]) < 200) syms[from, to] = syms[from, to] ", " sym
    }
    END {
        for (m in mods) {
            if (!(m in layer)) { print "layers: module " m " is in no layer of " list; nup++ }
        }
        for (m in layer)
            if (!(m in mods) && system("test -f " objdir "/" m ".o") != 0) {
                print "layers: " m " is listed but " objdir "/" m ".o is missing"; nup++
            }
        for (k in edge) {
            split(k, p, SUBSEP)
            if ((p[1] in layer) && (p[2] in layer) && layer[p[1]] < layer[p[2]]) {
                printf "layers: %s (%s) calls up into %s (%s): %s\n", p[1], lname[layer[p[1]]], \
                    p[2], lname[layer[p[2]]], syms[k]
                nup++
            }
        }
        # Circles: modules that reach each other (transitive closure; a few dozen modules).
        n = 0
        for (m in mods) node[++n] = m
        for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
            reach[i, j] = ((node[i], node[j]) in edge) ? 1 : 0
        for (k = 1; k <= n; k++) for (i = 1; i <= n; i++) if (reach[i, k])
            for (j = 1; j <= n; j++) if (reach[k, j]) reach[i, j] = 1
        for (i = 1; i <= n; i++) {
            if (done[i] || !reach[i, i]) continue
            circle = node[i]
            for (j = i + 1; j <= n; j++)
                if (reach[i, j] && reach[j, i]) { circle = circle " " node[j]; done[j] = 1 }
            ncirc++
            print "layers: circle: " circle
            for (a = 1; a <= n; a++) for (c = 1; c <= n; c++)
                if ((node[a], node[c]) in edge && reach[i, a] && reach[a, i] && reach[i, c] && reach[c, i])
                    printf "  %s -> %s: %s\n", node[a], node[c], syms[node[a], node[c]]
        }
        for (k in edge) ncalls++
        printf "checks(%s) layers: %d modules, %d caller-callee pairs, %d calls up, %d circles, " \
            "%d names without their prefix\n", b, n, ncalls, nup + 0, ncirc + 0, nname + 0
        # Three cases: calls run down the layers, no circle, names carry their prefix.
        nf = (nup > 0) + (ncirc > 0) + (nname > 0)
        np = 3 - nf
        printf "layers(%s): %d passed, %d failed, 0 skipped\n", b, np, nf
        exit nf > 0 ? 1 : 0
    }' "$tmp/names" "$tmp/calls"
