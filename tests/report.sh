#!/bin/sh
# Total the summary lines in FILE (output of run-unit.sh and e2e/run.sh):
# every line of the form "LABEL: N passed, N failed" is added up, and exactly
# one final line "N passed, N failed" is printed.  Exit 1 when anything failed
# or when nothing ran at all.
set -u

FILE=${1:?usage: report.sh FILE}
if [ ! -r "$FILE" ]; then
    echo "report: $FILE not found"
    echo "0 passed, 1 failed"
    exit 1
fi

awk '
    /^[^ ].*: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/ {
        line = $0
        sub(/.*: /, "", line)
        split(line, w, /[ ,]+/)
        p += w[1]; f += w[3]
        printf "  %s\n", $0
    }
    END {
        if (p + f == 0) { print "report: no test ran"; f = 1 }
        printf "%d passed, %d failed\n", p, f
        exit f > 0 ? 1 : 0
    }' "$FILE"
