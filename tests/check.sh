#!/bin/sh
# make check after both builds: the suites of the normal build and those of
# the sanitizer build run side by side, each build's in a lane of its own.
#
#   sh tests/check.sh
#
# Why two lanes: most of a run is spent waiting (on Dovecot and Postfix in
# the end-to-end and fault suites, on dpkg in the package check), with one
# core idle; the two builds' suites share nothing (each harness starts its
# own servers on free ports in its own temporary folder), so the sanitizer
# lane fills that idle time.  Each lane writes its own log (build/lane-*.txt,
# with what every suite took); the logs are printed whole, one after the
# other, and tests/report.sh totals them against tests/suites.list: a suite
# that did not report fails the run, whichever lane it was in.
set -u

cd "$(dirname "$0")/.."
rm -f build/results.txt build/lane-build.txt build/lane-build-san.txt build/timings.txt

# suite LANE-LOG NAME COMMAND...: run one suite into the lane's log and say
# on the terminal when it is done and how long it took.
suite() {
    log=$1 name=$2
    shift 2
    t0=$(date +%s)
    echo "== $name" >>"$log"
    "$@" >>"$log" 2>&1
    rc=$?
    t=$(($(date +%s) - t0))
    echo "   $name: ${t} s (exit $rc)" | tee -a build/timings.txt
}

lane_build() {
    log=build/lane-build.txt
    suite $log "unit (build)" sh tests/run-unit.sh build
    suite $log "layers (build)" sh tests/layers.sh build
    suite $log "digest in a browser (build)" sh tests/test_digest_browser.sh build
    suite $log "fuzz replay (build)" sh fuzz/replay.sh build
    suite $log "install (build)" sh tests/install.sh build
    suite $log "docs (build)" sh tests/test_docs.sh build
    suite $log "mentorctl (build)" sh tests/test_mentorctl.sh build
    suite $log "e2e (build)" sh tests/e2e/run.sh build
    suite $log "faults (build)" sh tests/faults/run.sh build
    if ! make -s deb >build/deb-build.log 2>&1; then
        tail -n 20 build/deb-build.log >>$log
    fi
    suite $log "Debian package (build)" sh tests/check-deb.sh build/deb
}

lane_san() {
    log=build/lane-build-san.txt
    suite $log "unit (build-san)" sh tests/run-unit.sh build-san
    suite $log "layers (build-san)" sh tests/layers.sh build-san
    suite $log "digest in a browser (build-san)" sh tests/test_digest_browser.sh build-san
    suite $log "fuzz replay (build-san)" sh fuzz/replay.sh build-san
    suite $log "mentorctl (build-san)" sh tests/test_mentorctl.sh build-san
    suite $log "e2e (build-san)" sh tests/e2e/run.sh build-san
}

: >build/lane-build.txt
: >build/lane-build-san.txt
echo "suites of both builds, side by side (logs: build/lane-build.txt, build/lane-build-san.txt):"
lane_san &
san=$!
lane_build
wait $san

cat build/lane-build.txt build/lane-build-san.txt >build/results.txt
cat build/results.txt
echo "time per suite:"
cat build/timings.txt
sh tests/report.sh build/results.txt tests/suites.list build build-san
