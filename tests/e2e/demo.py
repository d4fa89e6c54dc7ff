#!/usr/bin/env python3
"""The demo's driver (see demo.sh): people write in, mentord answers once, show the mail."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402
import story  # noqa: E402

PEOPLE = [
    # (user, display name, subject, body)
    ("ann", "Ann Example", "JOIN",
     "Hi, I'd like a mentor for my first open-source patch.\n\n"
     "Skills: Python, documentation\nLanguages: English, Deutsch\nTime zone: Berlin"),
    ("cat", "Cat Example", "Re: join", "join\n\nA friend told me about this programme."),
    ("bob", "Bob Example", "volunteer",
     "Happy to mentor someone, I've been around for years.\n\n"
     "Skills: python, packaging, code review\nLanguages: English\nTime zone: UTC+1\n"
     "Capacity: 2"),
    ("dan", "Dániel Ørsted-Ñúñez", "",
     "mentor\n\nsure, count me in 👍\n\nSent from my iPhone"),
]

# Who answers the confirmation (cat never does: her request stays pending and expires).
CONFIRMING = ("ann", "bob", "dan")

def rule(title):
    print()
    print("── %s %s" % (title, "─" * max(0, 72 - len(title))))


def show(msg):
    for h in ("From", "To", "Subject"):
        print("%-8s %s" % (h + ":", msg[h]))
    print()
    for line in mb.body_text(msg).rstrip().splitlines():
        print("    " + line)


def run(config, title):
    rule(title)
    rc, out, err = mb.run_mentord(config, "--once")
    sys.stdout.write(err)
    if rc != 0:
        print("mentord exited with status %d" % rc)
    return rc


def show_new(people, seen):
    for user, name in people:
        rule("What %s received" % name)
        msgs = mb.mailbox(user)
        new = msgs[seen.get(user, 0):]
        seen[user] = len(msgs)
        if not new:
            print("(nothing)")
        for msg in new:
            show(msg)


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    config = mb.write_config(os.path.join(work, "mentord.ini"), log__level="info")
    names = dict((u, n) for u, n, _, _ in PEOPLE)
    seen = {}

    rule("1. People write to %s" % mb.addr("mentors"))
    for user, name, subject, body in PEOPLE:
        mb.send(user, "mentors", subject, body,
                headers={"From": "%s <%s>" % (name, mb.addr(user))})
        print("%s <%s>, subject: %s" % (name, mb.addr(user), subject or "(none)"))
        for line in body.splitlines():
            print("    > " + line)
    # An out-of-office robot answers too; it must never get an answer.
    mb.send("eve", "mentors", "Automatic reply: JOIN", "I am away until Monday.",
            headers={"Auto-Submitted": "auto-replied"})
    print("eve's vacation responder, Auto-Submitted: auto-replied")
    rc = run(config, "mentord --once")
    mb.wait_for("ann", 1)
    show_new([(u, names[u]) for u in names] + [("eve", "eve's responder")], seen)

    rule("2. Ann, Bob and Dániel reply to their confirmation; Cat does not")
    for user in CONFIRMING:
        request = mb.mailbox(user)[-1]
        mb.send(user, "mentors", "Re: " + str(request["Subject"]), "Yes, that's me!",
                headers={"From": "%s <%s>" % (names[user], mb.addr(user)),
                         "In-Reply-To": str(request["Message-ID"]),
                         "References": str(request["Message-ID"])})
        print("%s replies to %s" % (names[user], request["Message-ID"]))
    rc = run(config, "mentord --once") or rc
    mb.wait_for("ann", 2)
    show_new([(u, names[u]) for u in CONFIRMING], seen)

    rule("The mentors' mailbox and mentord's members")
    print("INBOX: %d, Processed: %d" % (mb.count("mentors"), mb.count("mentors", "Processed")))
    db = mb.db_path(config)
    for address, role, state, profile in mb.sqlite(
            db, "SELECT address, role, state, coalesce(profile, '') FROM members ORDER BY id"):
        print("member %-24s %-9s %-8s %s" % (address, role, state,
                                            profile.strip().replace("\n", "; ")))
    # Mail that waits for someone's morning says so (the outbox's "waiting" column).
    rule("mentorctl outbox queued: what waits, and why")
    rc2, out, err = mb.run_mentorctl(config, "outbox", "queued")
    sys.stdout.write(out or "(nothing waits)\n")
    sys.stdout.write(err)
    prc = programme(os.path.join(work, "programme"))
    rc = rc or prc
    return 0 if rc == 0 else 1


# Mails the five-week story sent before members got one check-in per mentor and
# thank-yous only when they tell something new.
BEFORE = 128


def counts(s, names):
    """How many mails each person got, by kind."""
    rule("Mails per person")
    for user in sorted(s.mail, key=lambda u: names.get(u, u)):
        kinds = {}
        for r in s.mail[user]:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        print("%-12s %3d  %s" % (names.get(user, user), len(s.mail[user]),
                                 ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))


def programme(work):
    """The shorter version of the e2e test's story: 5 weeks on an injected clock."""
    cast = story.short_cast()
    weeks, checkins = 5, "3, 10, 17, 24"
    rule("3. Five weeks of a programme, on an injected clock (mentord --once --now T)")
    print("Mentors: Bob (Berlin, stops answering after day 10) and Dan (New York).")
    print("Newcomers: Ann (Berlin), Cat (Tokyo), Eve (UTC), Uma (New York, joins on day 1).")
    print("Pairings last 4 weeks; check-ins on days %s; mentord runs at 07:00, 13:00 and "
          "23:00 UTC," % checkins)
    print("and before each run everybody answers what they got, in their own mail client.")
    print("Each line: day, the time where the recipient lives, who, the subject of what they")
    print("received (<-), or what they decided to write (->).")
    mb.reset()
    os.makedirs(work, exist_ok=True)
    config = story.config(os.path.join(work, "mentord.ini"), cast_checkins=checkins,
                          length_weeks=4)
    t0 = time.monotonic()
    s = story.Story(cast, work, weeks=weeks, config_path=config).play()
    names = {p.user: p.first for p in cast}
    names.update({m: "the manager" for m in story.MANAGERS})
    zones = {p.user: p.tz for p in cast}
    # What people wrote before a run comes before what the run sent; routine
    # answers (confirmations, check-ins) are left out, the decisions stay.
    routine = ("confirm-join", "confirm-mentor", "confirm-leave", "checkin", "closing")
    lines = []
    for user, mails in s.mail.items():
        for r in mails:
            lines.append((r.at, 1, user, r.subject))
    for x in s.sent:
        if x.now is not None and (x.answering is None or x.answering.kind not in routine):
            lines.append((x.now, 0, x.user, x.subject))
    day = None
    for at, received, user, subject in sorted(lines):
        d = (at - story.START) // story.DAY
        if d != day:
            print()
            day = d
        zone = zones.get(user, "UTC")
        local = story.local(at, zone)
        if not received:
            print("day %2d  %s  %-18s %-11s -> %s" % (d, local.strftime("%a %H:%M"), zone,
                                                     names[user], subject))
        else:
            print("day %2d  %s  %-18s %-11s <- %s" % (d, local.strftime("%a %H:%M"), zone,
                                                     names[user], subject))
    print()
    total = sum(len(v) for v in s.mail.values())
    print("%d mentord runs, %d mails received, %d written, in %.0f s"
          % (s.runs, total, len(s.sent), time.monotonic() - t0))
    counts(s, names)
    print("%d mails in all; the same story took %d before (%d%% of that)"
          % (total, BEFORE, round(100 * total / BEFORE)))
    for kind, title in (("introduction", "An introduction"),
                        ("checkin", "A check-in (a mentor's, about two mentees)"),
                        ("digest", "The managers' digest (text part)")):
        # A mentor's check-in about two mentees shows the batching; else any.
        mails = [(u, r) for u in s.mail for r in s.mail[u] if r.kind == kind]
        got = next((x for x in mails if " and " in x[1].subject), mails[0] if mails else None)
        rule("%s, as %s received it" % (title, names.get(got[0], got[0]) if got else "nobody"))
        if got is not None:
            show(got[1].msg)
    for now, rc, why in s.errors:
        print("mentord failed at %s (status %s): %s" % (now, rc, why))
    return 1 if s.errors else 0


if __name__ == "__main__":
    sys.exit(main())
