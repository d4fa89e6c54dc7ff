# Read a LeakSanitizer report; print every leak whose stack does not start
# with a line of KNOWN (fuzz/known-leaks.txt) and count the known ones.
# Exit status 1 when an unknown leak is left.
#   awk -v known=fuzz/known-leaks.txt -f fuzz/known-leaks.awk REPORT
function frame(line,    f) {
    if (match(line, / in [^ ]+/)) return substr(line, RSTART + 4, RLENGTH - 4)
    if (match(line, /\([^()]*\+0x[0-9a-f]+\)/)) {
        f = substr(line, RSTART + 1, RLENGTH - 2)
        sub(/.*\//, "", f)
        return f
    }
    return "?"
}
function close_block(    i, ok) {
    if (!inblock) return
    inblock = 0
    for (i = 1; i <= nk; i++)
        if (substr(sig, 1, length(k[i])) == k[i] &&
            (length(sig) == length(k[i]) || substr(sig, length(k[i]) + 1, 1) == " ")) {
            nknown++
            return
        }
    unknown++
    print block
}
BEGIN {
    while ((getline l < known) > 0)
        if (l !~ /^#/ && l !~ /^[ \t]*$/) k[++nk] = l
}
/^(Direct|Indirect) leak of / { close_block(); inblock = 1; block = $0; sig = ""; next }
inblock && /^    #[0-9]+ / {
    block = block "\n" $0
    if ($1 != "#0") sig = sig (sig == "" ? "" : " ") frame($0)
    next
}
inblock { close_block() }
END {
    close_block()
    printf "known-leaks: %d known, %d unknown\n", nknown, unknown
    exit unknown > 0 ? 1 : 0
}
