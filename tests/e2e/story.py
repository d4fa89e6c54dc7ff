"""story: the scripted mentoring programme shared by test_programme_e2e.py and demo.py.

A cast of people (mentors and newcomers with profiles, time zones and mail
clients), what each of them does with the mail mentord sends them, and a
driver that lives through the programme on the real test-bed with an injected
clock: at each step the people read what arrived since their last look (over
IMAP), answer it as scripted, then `mentord --once --now T` runs.

    cast = story.full_cast()              # 20 newcomers, 5 mentors (the e2e test)
    s = story.Story(cast, workdir, weeks=16)
    s.play()                              # s.mail[user]: what each received, in order

Standard library only, plus mailbed.py beside it.
"""

import calendar
import email
import email.policy
import email.utils
import imaplib
import os
import re
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import mailbed as mb

DAY = 86400
WEEK = 7 * DAY
# Monday 5 January 2026, 00:00 UTC: the programme crosses both DST changes
# (America/New_York on 8 March, Europe/Berlin on 29 March).
START = calendar.timegm((2026, 1, 5, 0, 0, 0))
STEP_HOURS = (7, 13, 23)  # UTC: morning in Europe, in New York and in Tokyo
CHECKINS = "3, 14, 21, 28, 42, 56, 70"
LENGTH_WEEKS = 12
MANAGERS = ("boss",)

# ---- the cast ----


class Person:
    """One member: who they are, their profile and how they behave."""

    def __init__(self, user, name, role, tz, client="gmail", skills="python", capacity=None,
                 languages="English", silent_from=None, pause=None, leave_day=None,
                 skip_checkins=(), worried=False, volunteers_later=False, joins=(0, 13)):
        self.user = user
        self.name = name
        self.role = role  # "mentor" or "newcomer"
        self.tz = tz  # IANA zone name, as written in the profile
        self.client = client  # gmail, outlook, iphone, toppost, bare
        self.skills = skills
        self.capacity = capacity
        self.languages = languages
        self.silent_from = silent_from  # day from which they answer nothing at all
        self.pause = pause  # (day, hour, weeks): writes "pause N weeks" then
        self.leave_day = leave_day  # day on which they write LEAVE
        self.skip_checkins = set(skip_checkins)  # check-in days they do not answer
        self.worried = worried  # answers the first check-in "not yet"
        self.volunteers_later = volunteers_later  # answers the invitation with MENTOR
        self.joins = joins  # (day, hour) of their JOIN / MENTOR mail

    @property
    def address(self):
        return mb.addr(self.user)

    @property
    def first(self):
        return self.name.split()[0]

    def zone(self):
        return ZoneInfo(self.tz)

    def profile(self):
        lines = ["Name: " + self.name, "Skills: " + self.skills,
                 "Languages: " + self.languages, "Time zone: " + self.tz]
        if self.capacity:
            lines.append("Capacity: %d" % self.capacity)
        return "\n".join(lines)

    def silent(self, now):
        return self.silent_from is not None and now >= START + self.silent_from * DAY


def full_cast():
    """20 newcomers and 5 mentors: the 16-week programme of the e2e test."""
    u = iter("user%d" % i for i in range(1, 26))
    mentors = [
        # Broad skills: the matcher likes her for almost everyone, so she fills
        # up (capacity 4) and then goes silent after week 3.
        Person(next(u), "Olga Berg", "mentor", "Europe/Berlin", "outlook",
               "python, rust, documentation, testing, packaging, c", capacity=4,
               languages="English, Deutsch", silent_from=21),
        # Takes a two-week break in week 4.
        Person(next(u), "Paul Rivera", "mentor", "America/New_York", "gmail",
               "python, web, javascript", capacity=3, languages="English, Spanish",
               pause=(24, 13, 2)),
        Person(next(u), "Kenji Sato", "mentor", "Asia/Tokyo", "iphone",
               "rust, c, embedded", capacity=3, languages="English, Japanese"),
        Person(next(u), "Rosa Lind", "mentor", "UTC", "toppost",
               "documentation, translation, testing", capacity=3),
        Person(next(u), "Sam Okafor", "mentor", "Europe/Berlin", "bare",
               "packaging, python, testing", capacity=3, languages="English, Deutsch"),
    ]
    zones = ["Europe/Berlin", "UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin",
             "UTC", "Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"]
    clients = ["gmail", "outlook", "iphone", "toppost", "bare"]
    skills = ["python, testing", "rust, c", "documentation, translation", "web, javascript",
              "packaging, python", "embedded, c", "python, documentation", "testing, rust",
              "translation", "web, python"]
    first = ["Ana", "Ben", "Chiara", "Dmitri", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas",
             "Kofi", "Lena", "Marek", "Nadia", "Oscar", "Priya", "Quentin", "Rita", "Sven",
             "Tomoko"]
    newcomers = []
    for i, name in enumerate(first):
        p = Person(next(u), "%s Example%d" % (name, i + 1), "newcomer", zones[i % len(zones)],
                   clients[i % len(clients)], skills[i % len(skills)],
                   joins=(i // 10, 13 if i % 2 == 0 else 7))
        newcomers.append(p)
    newcomers[1].worried = True  # "we haven't met yet" on the first check-in
    newcomers[4].leave_day = 40  # leaves in week 6
    newcomers[6].skip_checkins = {21, 42}  # forgets a few
    newcomers[7].skip_checkins = {14}
    newcomers[2].volunteers_later = True  # becomes a mentor after the programme
    return mentors + newcomers


def short_cast():
    """The demo's cast: 4 newcomers, 2 mentors (one goes silent), 5 weeks."""
    return [
        Person("bob", "Bob Mentor", "mentor", "Europe/Berlin", "gmail",
               "python, documentation", capacity=2, silent_from=10),
        Person("dan", "Dan Mentor", "mentor", "America/New_York", "outlook",
               "python, rust", capacity=2),
        Person("ann", "Ann Newcomer", "newcomer", "Europe/Berlin", "iphone",
               "python, documentation"),
        Person("cat", "Cat Newcomer", "newcomer", "Asia/Tokyo", "bare", "rust"),
        Person("eve", "Eve Newcomer", "newcomer", "UTC", "toppost", "python",
               joins=(0, 7)),
        Person("user1", "Uma Newcomer", "newcomer", "America/New_York", "gmail",
               "documentation", joins=(1, 13)),
    ]


def config(path, cast_checkins=CHECKINS, length_weeks=LENGTH_WEEKS, **extra):
    """The mentord configuration for a story (a mailbed config with [lifecycle] knobs)."""
    opts = {
        "log__level": "info",
        "lifecycle__checkins": cast_checkins,
        "lifecycle__length": "%dd" % (7 * length_weeks),
        "lifecycle__silent_checkins": "2",
        "digest__frequency": "weekly",
        "digest__day": "monday",
        "digest__hour": "9",
        "digest__timezone": "UTC",
        # A silent mentor must not hold a newcomer for long.
        "matching__proposal_timeout": "2d",
    }
    opts.update(extra)
    return mb.write_config(path, **opts)


# ---- what mentord's mail is ----

# (kind, regex on the decoded Subject), first match wins.  Community name:
# "Example Community" (mailbed's default).
SUBJECTS = [
    ("confirm-join", r"^Please confirm your .* mentoring request \[ref "),
    ("confirm-action", r"^Reply to confirm: "),
    ("confirm-mentor", r"^Please confirm your offer to mentor"),
    ("confirm-leave", r"^Please confirm that you want to leave"),
    ("welcome", r"^Welcome to .* mentoring$"),
    ("mentor-welcome", r"^Thank you for volunteering as a mentor"),
    ("farewell", r"^Goodbye from "),
    ("waitlist", r"^You are on the waiting list"),
    ("proposal-accepted", r"^Thank you for accepting \[ref "),
    ("proposal-again", r"^Would you like to mentor this newcomer\?"),
    ("proposal", r"^Would you mentor .*\? \[ref "),
    ("proposal-declined", r"^No problem, we will ask someone else"),
    ("proposal-closed", r"^This suggestion is no longer open"),
    ("introduction", r"mentoring: meet "),
    ("checkin", r"^How is it going with .*\? \[ref "),
    ("feedback-thanks", r"^Thank you for your answer \[ref "),
    ("reminder", r"^A few things waiting in "),
    ("rematch-offer", r"^Would you like another mentor\? \[ref "),
    ("rematch", r"^We will look for a new match"),
    ("rematch-partner", r"^A change to your mentoring pairing"),
    ("partner-left", r"^A change in your .* mentoring$"),
    ("closing", r"^Your mentoring with .* is complete \[ref "),
    ("pair-done", r"^Your mentoring pairing has ended"),
    ("invite-mentor", r"^Would you like to mentor in "),
    ("pause-ending", r"mentoring break ends on "),
    ("pause", r"mentoring is paused$"),
    ("resume", r"^Welcome back to "),
    ("milestone", r"^Thank you from .* mentoring$"),
    ("manager-alert", r"mentoring: (a pair needs|\d+ pairs need) attention$"),
    ("digest", r"^(Day|Week|Month) \S+( so far)?: "),
    ("manager-confirm", r"^Confirm: "),
    ("status", r"mentoring status$"),
    ("profile", r"^We have updated your"),
    ("help", r"^How .* mentoring works$"),
    ("no-pairing", r"^Nothing to .* right now$"),
    ("pair-which", r"^Which pairing do you mean\?"),
    ("already", r"^You are already part of"),
    ("not-member", r"^You are not part of"),
    ("confirm-expired", r"^We could not use that confirmation"),
    ("capacity", r"mentoring capacity"),
    ("undeliverable", r"keeps failing$"),
    ("too-large", r"was too large$"),
]
_SUBJECTS = [(k, re.compile(r)) for k, r in SUBJECTS]


def kind_of(subject):
    """mentord's template for a Subject ("checkin", "proposal", ...), "other" if unknown."""
    s = re.sub(r"\s+", " ", str(subject or "")).strip()
    for kind, rx in _SUBJECTS:
        if rx.search(s):
            return kind
    return "other"


def ref_of(subject):
    found = re.search(r"\[ref ([a-z0-9]+)\]", str(subject or ""))
    return found.group(1) if found else None


def sent_at(msg):
    """The Date header (mentord writes the send time) as epoch seconds."""
    return int(email.utils.parsedate_to_datetime(str(msg["Date"])).timestamp())


def local(t, tz):
    return datetime.fromtimestamp(t, timezone.utc).astimezone(ZoneInfo(tz))


class Received:
    """One mail as a person saw it."""

    def __init__(self, msg, seen_at):
        self.msg = msg
        self.subject = re.sub(r"\s+", " ", str(msg["Subject"] or "")).strip()
        self.kind = kind_of(self.subject)
        self.ref = ref_of(self.subject)
        self.at = sent_at(msg)
        self.seen_at = seen_at  # the step at which it was in the mailbox
        self.message_id = str(msg["Message-ID"] or "").strip()
        self.auto = str(msg["Auto-Submitted"] or "").strip().lower()
        self.body = mb.body_text(msg)


# ---- how people write back ----

def _quote(text):
    return "\n".join(("> " + line) if line else ">" for line in text.rstrip().split("\n"))


def reply_mail(person, rcv, answer, now):
    """(subject, body, headers) of person's answer to rcv, in their client's style."""
    subject = rcv.subject
    date = email.utils.format_datetime(local(rcv.at, person.tz))
    threading = {"In-Reply-To": rcv.message_id, "References": rcv.message_id}
    frm = "Example Community <%s>" % mb.addr("mentors")
    if person.client == "gmail":
        body = "%s\n\nOn %s, %s wrote:\n%s\n" % (answer, date, frm, _quote(rcv.body))
        return "Re: " + subject, body, threading
    if person.client == "outlook":
        body = ("%s\n\nBest regards,\n%s\n\n-----Original Message-----\nFrom: %s\nSent: %s\n"
                "To: %s\nSubject: %s\n\n%s\n" % (answer, person.name, frm, date, person.address,
                                                subject, rcv.body))
        return "RE: " + subject, body, threading
    if person.client == "iphone":
        body = "%s\n\nSent from my iPhone\n\n> On %s, %s wrote:\n%s\n" % (
            answer, date, frm, _quote(rcv.body))
        return "Re: " + subject, body, threading
    if person.client == "toppost":
        body = "%s\n\n%s\n\n________________________________\nFrom: %s\nSent: %s\n\n%s\n" % (
            answer, person.first, frm, date, _quote(rcv.body))
        return "Re: " + subject, body, threading
    # "bare": a client that drops In-Reply-To and References; only the
    # Subject's [ref] tag ties the answer to its conversation.
    return "Re: " + subject, answer + "\n", {"In-Reply-To": None, "References": None}


def checkin_day(rcv):
    found = re.search(r"It has been (\d+) days", rcv.body)
    return int(found.group(1)) if found else None


def answer_for(person, rcv, now):
    """What person writes back to rcv at now, or None (ignores it)."""
    if person.silent(now):
        return None
    k = rcv.kind
    if k in ("confirm-join", "confirm-mentor", "confirm-leave"):
        return "Yes, that was me."
    if k == "proposal":
        return "ACCEPT\n\nHappy to help."
    if k == "checkin":
        day = checkin_day(rcv)
        if day in person.skip_checkins:
            return None
        if person.worried and day == int(CHECKINS.split(",")[0]):
            return "Not yet, we haven't met."
        if person.role == "mentor":
            return "5 - good progress, we talk every week."
        return "4 - we met and went through my first patch together."
    if k == "rematch-offer":
        # The worried newcomer has met their mentor meanwhile; the others want someone new.
        return None if person.worried else "REMATCH please"
    if k == "closing":
        return "5 - thank you, this was really helpful."
    if k == "invite-mentor" and person.volunteers_later:
        return "MENTOR\n\nYes, I would like to give something back."
    return None


# ---- the driver ----

class Sent:
    """One mail a person wrote: when, who, the Subject, and the mail it answers (or None)."""

    def __init__(self, now, user, subject, answering):
        self.now = now
        self.user = user
        self.subject = subject
        self.answering = answering


class Story:
    """Lives through the programme: steps of the clock, people answering, mentord running."""

    def __init__(self, cast, workdir, weeks=16, config_path=None, env=None, on_run=None,
                 steps=STEP_HOURS, runner=None, ordered=False):
        self.cast = cast
        self.by_user = {p.user: p for p in cast}
        self.by_addr = {p.address.lower(): p for p in cast}
        self.workdir = workdir
        self.weeks = weeks
        self.steps = steps
        self.config = config_path or config(os.path.join(workdir, "mentord.ini"))
        self.db = mb.db_path(self.config)
        self.env = env or {}
        self.on_run = on_run  # called with (now, rc, stderr) after each mentord run
        # How a scheduled run happens: runner(config, *args, env=...) -> (rc, stdout, stderr),
        # like mb.run_mentord (the default); test_programme_kill.py passes one that SIGKILLs.
        self.runner = runner or mb.run_mentord
        # ordered: each mail people write is in the mentors INBOX before the next is sent, so
        # two plays file them in the same order (Postfix otherwise delivers one step's mail in
        # parallel, and the order decides member ids and ties in the waiting list).
        self.ordered = ordered
        self.readers = sorted(set([p.user for p in cast] + list(MANAGERS)))
        self.mail = {u: [] for u in self.readers}  # what each received, in order
        self.handled = {u: 0 for u in self.readers}  # how many each has looked at
        self.last_uid = {u: 0 for u in self.readers}
        self.sent = []  # Sent: everything the people wrote
        self.runs = 0
        self.errors = []  # mentord runs that failed, (now, rc, stderr tail)
        self.paused_at = {}  # user -> epoch when "pause" arrived
        self.end = START + weeks * WEEK

    # -- the clock --

    def times(self):
        for day in range(self.weeks * 7):
            for hour in self.steps:
                yield START + day * DAY + hour * 3600

    def play(self):
        for now in self.times():
            self.step(now)
        self.settle()
        return self

    def step(self, now):
        self.people_act(now)
        self.run(now)
        self.collect(now)

    # -- the people --

    def send(self, person, subject, body, headers=None, now=None, answering=None):
        h = {"From": "%s <%s>" % (person.name, person.address)}
        h.update(headers or {})
        mb.send(person.user, "mentors", subject, body, headers=h, wait=self.ordered)
        self.sent.append(Sent(now, person.user, subject, answering))

    def people_act(self, now):
        day, hour = (now - START) // DAY, (now - START) % DAY // 3600
        wrote = 0
        for p in self.cast:
            if p.joins == (day, hour):
                word = "MENTOR" if p.role == "mentor" else "JOIN"
                self.send(p, word, "Hello!\n\n" + p.profile() + "\n", now=now)
                wrote += 1
            if p.pause and p.pause[:2] == (day, hour) and not p.silent(now):
                # written in reply to mentord's last mail to them: it acts at once (a fresh
                # mail proves nothing and would be answered with a confirmation)
                last = self.mail[p.user][-1] if self.mail[p.user] else None
                threading = ({"In-Reply-To": last.message_id, "References": last.message_id}
                             if last else None)
                self.send(p, "pause %d weeks" % p.pause[2], "Taking a short break.",
                          headers=threading, now=now)
                wrote += 1
            if p.leave_day == day and hour == self.steps[0]:
                self.send(p, "LEAVE", "I no longer have time, sorry.", now=now)
                wrote += 1
            for rcv in self.mail[p.user][self.handled[p.user]:]:
                answer = answer_for(p, rcv, now)
                if answer is not None:
                    subject, body, headers = reply_mail(p, rcv, answer, now)
                    self.send(p, subject, body, headers, now=now, answering=rcv)
                    wrote += 1
            self.handled[p.user] = len(self.mail[p.user])
        if wrote:
            mb.wait_count("mentors", 1, timeout=10)
            deadline = time.monotonic() + 15
            while mb.count("mentors") < wrote and time.monotonic() < deadline:
                time.sleep(0.05)

    # -- mentord --

    def run(self, now):
        rc, out, err = self.runner(self.config, "--once", "--now", str(now), env=self.env)
        self.runs += 1
        if rc != 0 or mb.sanitizer_report(err):
            self.errors.append((now, rc, mb.sanitizer_report(err) or err[-1500:]))
        if self.on_run:
            self.on_run(now, rc, err)

    def collect(self, now):
        """Wait for what this run sent, then read the new mail of its recipients.

        The injected clock keeps ticking while mentord runs, so a mail may be
        sent a second or two after now.  Mail of one run reaches a mailbox in
        any order (Postfix delivers in parallel): it is put back in the order
        mentord queued it (the outbox id).
        """
        rows = mb.sqlite(self.db, "SELECT lower(recipient), message_id, id FROM outbox "
                         "WHERE status = 'sent' AND sent_at >= ?", (now,))
        order = {mid: oid for _, mid, oid in rows}
        want = {}
        for address, _, _ in rows:
            user = address.split("@")[0]
            if user in self.mail:
                want[user] = want.get(user, 0) + 1
        for user, n in sorted(want.items()):
            before = len(self.mail[user])
            deadline = time.monotonic() + 20
            while True:
                self.fetch(user, now)
                if len(self.mail[user]) >= before + n or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            new = self.mail[user][before:]
            new.sort(key=lambda r: (r.at, order.get(r.message_id.strip("<>"), 1 << 62)))
            self.mail[user][before:] = new

    def settle(self):
        """The last look: whatever is still on its way (the leaver's outbox row is erased)."""
        time.sleep(1)
        for user in self.readers:
            self.fetch(user, self.end)

    def fetch(self, user, now):
        m = mb._imap(user)
        try:
            typ, _ = m.select("INBOX", readonly=True)
            if typ != "OK":
                return
            typ, data = m.uid("SEARCH", None, "UID %d:*" % (self.last_uid[user] + 1))
            uids = [int(x) for x in (data[0] or b"").split()] if typ == "OK" else []
            for uid in sorted(x for x in uids if x > self.last_uid[user]):
                typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raw = next(part[1] for part in data if isinstance(part, tuple))
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                msg.raw = raw
                self.mail[user].append(Received(msg, now))
                self.last_uid[user] = uid
        finally:
            try:
                m.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    # -- reading the result --

    def kinds(self, user):
        return [r.kind for r in self.mail[user]]

    def partners(self, user):
        """Addresses of the people user was introduced to (from their introductions)."""
        own = mb.addr(user).lower()
        found = set()
        for r in self.mail[user]:
            if r.kind == "introduction":
                for a in re.findall(r"[\w.+-]+@[\w.-]+", r.body + " " + r.subject):
                    a = a.lower()
                    if a != own and a in self.by_addr:
                        found.add(a)
        return found

