#!/usr/bin/env python3
"""The demo's driver (see demo.sh): people write in, mentord answers once, show the mail."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402

PEOPLE = [
    # (user, display name, subject, body)
    ("ann", "Ann Example", "JOIN", "Hi, I'd like a mentor for my first open-source patch."),
    ("cat", "Cat Example", "Re: join", "join\n\nA friend told me about this programme."),
    ("bob", "Bob Example", "volunteer", "Happy to mentor someone, I've been around for years."),
    ("dan", "Dániel Ørsted-Ñúñez", "",
     "mentor\n\nsure, count me in 👍\n\nSent from my iPhone"),
]


def rule(title):
    print()
    print("── %s %s" % (title, "─" * max(0, 72 - len(title))))


def show(msg):
    for h in ("From", "To", "Subject"):
        print("%-8s %s" % (h + ":", msg[h]))
    print()
    for line in mb.body_text(msg).rstrip().splitlines():
        print("    " + line)


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    config = mb.write_config(os.path.join(work, "mentord.ini"), log__level="info")

    rule("Mail to %s" % mb.addr("mentors"))
    for user, name, subject, body in PEOPLE:
        mb.send(user, "mentors", subject, body,
                headers={"From": "%s <%s>" % (name, mb.addr(user))})
        print("%s <%s>, subject: %s" % (name, mb.addr(user), subject or "(none)"))
        for line in body.splitlines():
            print("    > " + line)

    rule("mentord --once")
    rc, out, err = mb.run_mentord(config, "--once")
    sys.stdout.write(err)
    if rc != 0:
        print("mentord exited with status %d" % rc)

    for user, name, _, _ in PEOPLE:
        rule("What %s received" % name)
        try:
            msgs = mb.wait_for(user, 1, timeout=10)
        except TimeoutError:
            print("(nothing)")
            continue
        for msg in msgs:
            show(msg)

    rule("mentors' mailbox")
    print("INBOX: %d, Processed: %d" % (mb.count("mentors"), mb.count("mentors", "Processed")))
    db = mb.db_path(config)
    if os.path.exists(db):
        for address, role in mb.sqlite(db, "SELECT address, role FROM members ORDER BY id"):
            print("member %-24s %s" % (address, role))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
