#!/usr/bin/env python3
"""A whole matching round inside mentord, on an imported community.

    python3 bench/round.py [--build build] NEWCOMERS:MENTORS...

For each size: a community like bench/gen.c's (Zipf tags over 600 names,
85% English plus a skewed second language, 15 weighted time zones given as
IANA names, mentors with 2-6 places) is written as CSV and imported with
`mentorctl import` into a fresh database (untimed); then
`mentorctl match --dry-run` runs the round the daemon runs: load the
candidates and their profiles from SQLite, parse the profiles, resolve the
time zones, score, solve, price every other pair, and print the pairs.
Reported: its CPU seconds (user + system, wait4 rusage of that process) and
its peak RSS, and the certificate line.  The reference is LEMON's
NetworkSimplex (build/bench/lemon_ref) on the round's own final graph: an
untimed dry run first writes it (MENTORD_MATCH_DIMACS), then the round and
LEMON's solve (its CPU seconds of run()) alternate, A B A B, and each target
is printed with its reference from this run: the round within 2x of LEMON's
solve, peak RSS within 64 MB, and LEMON's optimum equal to the round's.
The round's own split (MENTORD_MATCH_STEPS: CPU seconds of loading the
members, candidates, solves, pricing, printing, and peak RSS after loading
and after the matcher) is printed per size, and at the end one line per #17
target: `TARGET | name | measured | reference | ratio | target | met`.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LANGS = ["English", "Spanish", "German", "French", "Portuguese", "Italian", "Dutch", "Polish"]
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
         "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "Europe/Madrid",
         "Africa/Lagos", "Asia/Singapore", "America/Chicago", "Europe/Moscow", "UTC",
         "Pacific/Auckland"]


def write_csv(path, nn, nm, seed=42):
    rnd = random.Random(seed)
    tags = ["topic%03d" % i for i in range(600)]
    tag_w = [1.0 / (i + 1) for i in range(600)]
    zone_w = [1.0 / (i + 1) for i in range(len(ZONES))]
    with open(path, "w") as f:
        f.write("address,name,role,skills,languages,timezone,capacity\n")
        for i in range(nn + nm):
            mentor = i >= nn
            k = rnd.randint(4, 8) if mentor else rnd.randint(2, 5)
            t = sorted(set(rnd.choices(tags, tag_w, k=k)))
            langs = []
            if rnd.random() < 0.85:
                langs.append(LANGS[0])
            if not langs or rnd.random() < 0.3:
                langs.append(LANGS[1 + rnd.randrange(7)])
            zone = rnd.choices(ZONES, zone_w)[0]
            f.write("%s%d@example.org,Person %d,%s,%s,%s,%s,%s\n"
                    % ("m" if mentor else "n", i, i, "mentor" if mentor else "newcomer",
                       ";".join(t), ";".join(langs), zone,
                       rnd.randint(2, 6) if mentor else ""))


def measure(cmd):
    """(CPU seconds, peak RSS kB, stdout, the steps line) of one process via wait4."""
    env = dict(os.environ, MENTORD_MATCH_STEPS="1")
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        err.seek(0)
        steps = [l for l in err.read().decode("utf-8", "replace").splitlines()
                 if l.startswith("steps:")]
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed" % " ".join(cmd))
    return (ru.ru_utime + ru.ru_stime, ru.ru_maxrss, out.decode("utf-8", "replace"),
            steps[-1] if steps else "")


def steps_row(size, run):
    """One table row of the round's split from its steps line."""
    line = run[3]
    sec = dict(re.findall(r"(load|candidates|solve|pricing|print) ([0-9.]+) s", line))
    kb = re.findall(r"peak ([0-9]+) kB", line)
    if not sec or len(kb) < 2:
        return "| %s | (no steps line) |" % size
    rest = run[0] - sum(float(v) for v in sec.values())
    return ("| %s | %.2f | %s | %s | %s | %s | %s | %.2f | %.1f | %.1f |"
            % (size, run[0], sec["load"], sec["candidates"], sec["solve"], sec["pricing"],
               sec["print"], rest, int(kb[0]) / 1024.0, int(kb[1]) / 1024.0))


def target(name, measured, reference, ratio, goal, met):
    print("TARGET | %s | %s | %s | %s | %s | %s" % (name, measured, reference, ratio, goal, met))


def lemon(ref, dimacs):
    """(solve CPU seconds, optimal cost) from lemon_ref on the graph."""
    out = subprocess.run([ref, dimacs], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=True).stdout
    kv = dict(x.split("=", 1) for x in out.split())
    return float(kv["seconds"]), int(kv["cost"])


def objective(out):
    """The round's total score minus load cost, in milli-points, from its summary line."""
    for line in out.splitlines():
        if line.startswith("pairs:"):
            f = line.split()
            return round(1000 * (float(f[3]) - float(f[6])))
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("sizes", nargs="+")
    a = ap.parse_args()
    ctl = os.path.join(a.build, "mentorctl")
    ref = os.path.join(a.build, "bench", "lemon_ref")
    print("| newcomers x mentors | import s (untimed part) | round CPU s (A, A) | "
          "LEMON solve s, same graph (B, B) | round / LEMON (paired) | target | met | "
          "peak RSS MiB (A, A) | target | met | optimum = LEMON's | pairs | certificate |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    done, splits = {}, []
    for size in a.sizes:
        nn, nm = (int(x) for x in size.split(":"))
        with tempfile.TemporaryDirectory(prefix="mentord-round.") as d:
            pw = os.path.join(d, "pw")
            with open(pw, "w") as f:
                f.write("secret\n")
            os.chmod(pw, 0o600)
            ini = os.path.join(d, "m.ini")
            with open(ini, "w") as f:
                f.write("[community]\nname = Bench\naddress = mentors@example.test\n"
                        "managers = boss@example.test\n[imap]\nhost = 127.0.0.1\nuser = u\n"
                        "password_file = %s\n[store]\npath = %s/m.db\n[templates]\ndir = %s\n"
                        "[matching]\nmentor_accepts = no\n"
                        % (pw, d, os.path.join(REPO, "templates")))
            os.chmod(ini, 0o600)
            csv = os.path.join(d, "people.csv")
            write_csv(csv, nn, nm)
            t0 = time.monotonic()
            r = subprocess.run([ctl, "-c", ini, "import", csv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            t_import = time.monotonic() - t0
            if r.returncode != 0:
                sys.exit("import failed: %s" % r.stderr[-500:])
            dimacs = os.path.join(d, "round.dimacs")
            env = dict(os.environ, MENTORD_MATCH_DIMACS=dimacs)
            subprocess.run([ctl, "-c", ini, "match", "--dry-run"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env, check=True)
            runs, refs = [], []
            for _ in range(2):  # A B A B
                runs.append(measure([ctl, "-c", ini, "match", "--dry-run"]))
                refs.append(lemon(ref, dimacs))
            ratios = [r[0] / max(l[0], 1e-9) for r, l in zip(runs, refs)]
            rss = [r[1] / 1024.0 for r in runs]
            last = runs[0][2].strip().splitlines()
            pairs = next((l for l in last if l.startswith("pairs:")), "? ?")
            cert = last[-1] if last else "?"
            same = objective(runs[0][2]) == -refs[0][1]
            done["%dx%d" % (nn, nm)] = (runs, refs, ratios, rss, same, cert)
            splits.append(steps_row("%d x %d" % (nn, nm), runs[0]))
            print("| %d x %d | %.1f | %.2f, %.2f | %.2f, %.2f | %.2fx, %.2fx | <= 2x | %s | "
                  "%.1f, %.1f | <= 64 MB (61.0 MiB) | %s | %s | %s | %s |"
                  % (nn, nm, t_import, runs[0][0], runs[1][0], refs[0][0], refs[1][0],
                     ratios[0], ratios[1], "yes" if max(ratios) <= 2 else "**no**",
                     rss[0], rss[1], "yes" if max(rss) * 1.048576 <= 64 else "**no**",
                     "yes" if same else "**no**", pairs.split()[1], cert), flush=True)
    print()
    print("The round's split (first run A; CPU seconds; rest: start, reading the addresses, exit):")
    print()
    print("| newcomers x mentors | round CPU s | load | candidates | solve | pricing | print | rest |"
          " peak after loading MiB | peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in splits:
        print(row)
    print()
    print_targets(done)


def print_targets(done):
    """One TARGET line per #17 target (see the module's text)."""
    big = done.get("100000x10000")
    name = "round CPU vs LEMON on the same graph, 100000x10000"
    if big is None:
        target(name, "not run", "LEMON NetworkSimplex, same graph", "-", "<= 2x",
               "not met: size 100000:10000 not run")
    else:
        runs, refs, ratios, rss, _, _ = big
        target(name, "%.2f s, %.2f s CPU (A, A)" % (runs[0][0], runs[1][0]),
               "LEMON NetworkSimplex on the round's final graph %.2f s, %.2f s (B, B)"
               % (refs[0][0], refs[1][0]),
               "%.2fx, %.2fx" % tuple(ratios), "<= 2x",
               "met" if max(ratios) <= 2 else "not met: %.2fx at worst" % max(ratios))
    name = "round peak RSS, 100000x10000"
    if big is None:
        target(name, "not run", "64 MB", "-", "<= 64 MB", "not met: size 100000:10000 not run")
    else:
        mb = max(big[3]) * 1.048576
        target(name, "%.1f MiB, %.1f MiB (%.1f MB at most)" % (big[3][0], big[3][1], mb),
               "64 MB", "%.2f" % (mb / 64), "<= 64 MB",
               "met" if mb <= 64 else "not met: %.1f MB" % mb)
    certs = []
    for k, v in done.items():
        m = re.match(r"optimal over all (\d+) x (\d+) eligible pairs .*?; (\d+) pairs solved, "
                     r"(\d+) pricing round", v[5])
        certs.append("%s: all %s x %s eligible pairs (%s solved, %s pricing rounds)" % ((k,) + m.groups())
                     if m else "%s: NOT certified" % k)
    ok = all(v[5].startswith("optimal over all") and v[4] for v in done.values()) and done
    target("optimal over all eligible pairs", "; ".join(certs) or "not run",
           "LEMON's optimum on the same graph: %s" % (
               "equal at every size" if ok else "differs or not run"),
           "1.000000" if ok else "-", "yes", "met" if ok else "not met")


if __name__ == "__main__":
    main()
