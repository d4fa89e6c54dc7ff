#!/usr/bin/env python3
"""The demo's driver (see demo.sh): people write in, mentord answers once, show the mail."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402

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
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
