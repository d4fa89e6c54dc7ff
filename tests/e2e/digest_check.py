"""digest_check: the managers' digest as a manager reads it, for test_programme_e2e.py.

Three readings of one digest mail:

  - read(msg) parses the plain-text part the way a reader's eye does: the
    period from the title, the figure table by the columns its header sets
    (so a row that does not line up does not parse), and the lists under it;
  - mutt_problems(msg) lists what would make it read badly in mutt: lines
    over 78 columns, columns that do not line up, HTML entities or markup in
    the text, invalid UTF-8, sparklines that are not 12 block characters;
  - html_problems(msg, text) checks the HTML alternative with html.parser:
    balanced tags, no SVG, nothing fetched from outside, the same lists as the
    text part; then digest_browser.py renders it in headless Chromium for the
    charts, the figures and the sentences on what needs a manager.

expected(s, start, end) computes the figures of the period [start, end) from
the played story itself - the mail people received and what they wrote -
not from the daemon's tables, so a wrong query in digest.c shows up.

Standard library only.
"""

import calendar
import html.parser
import math
import re
import time

import story

DAY = 86400
WIDTH = 78
PERIODS = 12
BARS = "▁▂▃▄▅▆▇█"
TOP_TITLE = "Needs a manager this week"
NONE_PREFIX = "None this "
# Each list's name on the one line that names the empty lists.
NONE_NAMES = {
    "Waiting for a mentor, longest first": "newcomers waiting",
    "Low ratings, with the comments": "low ratings",
    "Mentors at risk of burnout, and why": "mentors at risk",
    "Silent pairs: no check-in answer for 4 weeks": "silent pairs",
    "Undeliverable addresses": "undeliverable addresses",
    "Mentees who became mentors": "mentees who became mentors",
    "Mentors to recognise": "mentors to recognise",
}
_PERIOD_RE = re.compile(r"the (day|week|month) (\S+) \((\w{3} \d{2} \w{3} \d{4} \d{2}:\d{2}) - "
                        r"(\w{3} \d{2} \w{3} \d{4} \d{2}:\d{2})\)")
_ENTITY_RE = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)
# A tag, not an address in angle brackets ("<user1@example.test>").
_TAG_RE = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.I)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}
# Attributes through which a mail client would fetch something.
_FETCHING = {"src", "href", "xlink:href", "background", "action", "poster", "data", "srcset",
             "formaction"}


class Problem(AssertionError):
    pass


def _parts(msg):
    """(raw bytes of text/plain, raw bytes of text/html) of a digest mail."""
    text = html_ = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_type() == "text/plain" and text is None:
            text = part.get_payload(decode=True)
        elif part.get_content_type() == "text/html" and html_ is None:
            html_ = part.get_payload(decode=True)
    # Lines end in CRLF on the wire; a reader sees lines.
    return (text.replace(b"\r\n", b"\n") if text is not None else None,
            html_.replace(b"\r\n", b"\n") if html_ is not None else None)


def _utc(stamp):
    return calendar.timegm(time.strptime(stamp, "%a %d %b %Y %H:%M"))


class TextDigest:
    """The plain-text part, parsed by its layout."""

    def __init__(self, text):
        self.text = text
        self.lines = text.split("\n")
        self.problems = []
        # The title may wrap: the period is read from the first paragraph.
        first = " ".join(x.strip() for x in text.split("\n\n")[0].split("\n"))
        m = _PERIOD_RE.search(first)
        if not m:
            raise Problem("no period in the digest's title: %r" % first)
        self.unit, self.key = m.group(1), m.group(2)
        self.start, self.end = _utc(m.group(3)), _utc(m.group(4))
        self.figures = {}  # label -> (value, change, sparkline)
        self.order = []
        self.lists = {}  # title -> [item lines, continuation lines joined]
        self._top()
        self._table()
        self._lists()

    def _table(self):
        hi = next((i for i, x in enumerate(self.lines)
                   if "Change" in x and ("Last %d" % PERIODS) in x), None)
        if hi is None:
            raise Problem("no figure table header in the text part")
        head = self.lines[hi]
        this = "This " + self.unit
        self.cols = (head.index(this) + len(this), head.index("Change") + len("Change"),
                     head.index("Last %d" % PERIODS))
        v_end, c_end, s_at = self.cols
        i = hi + 1
        while i < len(self.lines) and self.lines[i].strip():
            row = self.lines[i]
            i += 1
            # Each column ends (or the sparkline starts) exactly where the header's does.
            ok = (len(row) >= c_end and row[v_end - 1] != " " and row[v_end] == " "
                  and row[c_end - 1] != " " and row[c_end:s_at].strip() == "")
            left = row[:v_end].rsplit(None, 1) if ok else []
            change = row[v_end:c_end].split() if ok else []
            if not (ok and len(left) == 2 and len(change) == 1):
                self.problems.append("figure row out of line with the header %r: %r"
                                     % (head, row))
                continue
            label, value = left[0].strip(), left[1]
            # Periods with nothing to measure are blanks, trailing ones not written.
            self.figures[label] = (value, change[0], row[s_at:].ljust(PERIODS))
            self.order.append(label)
        self.table_end = i

    def _lists(self):
        """The paragraphs under the table: the scale note, the lists (a title, then
        indented items; wrapped items continue deeper), the one line naming the
        empty lists, and the footer (several unindented lines) that ends them."""
        paras, cur = [], []
        for row in self.lines[self.table_end:] + [""]:
            if row.strip():
                cur.append(row)
            elif cur:
                paras.append(cur)
                cur = []
        self.none_line = None
        self.more = {}
        for para in paras:
            first = para[0]
            if first.startswith("Bars start at zero"):
                continue
            if first.startswith(NONE_PREFIX):
                self.none_line = " ".join(" ".join(x.split()) for x in para)
                continue
            if any(not x.startswith(" ") for x in para[1:]):
                break  # the footer
            title = first.strip()
            items = []
            for row in para[1:]:
                if row.startswith(" " * 6) and items:
                    items[-1] += " " + row.strip()
                else:
                    items.append(row.strip())
            m = re.match(r"and (\d+) more$", items[-1]) if items else None
            if m:
                self.more[title] = int(m.group(1))
                items.pop()
            self.lists[title] = items

    def _top(self):
        """The sentences on what needs a manager, above the table."""
        self.top = []
        try:
            at = self.lines.index(TOP_TITLE)
        except ValueError:
            raise Problem("no %r section in the text part" % TOP_TITLE)
        for row in self.lines[at + 1:]:
            if not row.strip():
                break
            m = re.match(r"  \d+\. (.*)", row)
            if m:
                self.top.append(m.group(1))
            elif self.top and row.startswith("     "):
                self.top[-1] += " " + row.strip()

    def value(self, label):
        """The figure as a number: counts and days as is, 97% as 97, 4.5 as 45; '-' as -1."""
        v = self.figures[label][0]
        if v == "-":
            return -1
        if "." in v:
            a, b = v.split(".")
            return int(a) * 10 + int(b)
        return int(v.rstrip("%"))

    def items(self, title):
        """A list's items ("and N more" left out); [] for one named on the empty-lists line."""
        got = self.lists.get(title)
        if got is not None:
            return got
        if self.none_line and NONE_NAMES.get(title, "?") in self.none_line:
            return []
        raise Problem("no list %r in the digest, nor named as empty" % title)


def read(msg):
    text, _ = _parts(msg)
    if text is None:
        raise Problem("the digest has no text/plain part")
    return TextDigest(text.decode("utf-8", "replace"))


def mutt_problems(msg):
    """Why the text part would read badly in a terminal mail reader ([] when it reads well)."""
    raw, _ = _parts(msg)
    bad = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["text part is not valid UTF-8: %s" % e]
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) > WIDTH:
            bad.append("line %d has %d columns: %r" % (n, len(line), line))
        if _ENTITY_RE.search(line) or _TAG_RE.search(line):
            bad.append("line %d has HTML in plain text: %r" % (n, line))
        if "\r" in line or "\t" in line:
            bad.append("line %d has a tab or CR: %r" % (n, line))
        if line.endswith(" "):
            bad.append("line %d ends in a blank: %r" % (n, line))
    d = TextDigest(text)
    bad += d.problems
    if len(d.figures) < 15:
        bad.append("only %d figure rows" % len(d.figures))
    for label, (value, _, spark) in d.figures.items():
        if len(spark) != PERIODS or any(c not in BARS + " " for c in spark):
            bad.append("%s: sparkline %r is not %d block characters" % (label, spark, PERIODS))
        elif value != "-" and spark[-1] == " ":
            bad.append("%s: %s this %s but no bar for it: %r" % (label, value, d.unit, spark))
    return bad


class _Html(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.rows = []  # table rows: [cell text, ...]
        self.lists = {}  # h2 text -> [li text, ...]
        self.svg = 0
        self.rects = 0
        self._cell = None
        self._h2 = None
        self._li = None
        self._title = None

    def handle_starttag(self, tag, attrs):
        self._attrs(tag, attrs)
        if tag not in _VOID:
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "h2":
            self._h2 = ""
        elif tag == "li":
            self._li = ""
        elif tag == "svg":
            self.svg += 1
        elif tag == "rect":
            self.rects += 1

    def handle_startendtag(self, tag, attrs):
        self._attrs(tag, attrs)
        if tag == "rect":
            self.rects += 1

    def _attrs(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "link", "img", "image"):
            self.problems.append("<%s> in the digest" % tag)
        for k, v in attrs:
            v = v or ""
            if k.lower() in _FETCHING or re.search(r"url\s*\(", v, re.I) or (
                    re.match(r"\s*(?:https?:)?//", v, re.I) and k.lower() != "xmlns"):
                self.problems.append("<%s %s=%r>: something fetched from elsewhere" % (tag, k, v))

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack
                                                          else "nothing"))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag in ("td", "th") and self.rows:
            self.rows[-1].append(self._cell)
            self._cell = None
        elif tag == "h2":
            self._title = self._h2.strip()
            self.lists[self._title] = []
            self._h2 = None
        elif tag == "li" and self._title is not None:
            self.lists[self._title].append(" ".join(self._li.split()))
            self._li = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._h2 is not None:
            self._h2 += data
        if self._li is not None:
            self._li += data


def html_problems(msg, text_digest, browser=True):
    """What is wrong with the HTML part, also against the text part ([] when nothing)."""
    _, raw = _parts(msg)
    if raw is None:
        return ["the digest has no text/html part"]
    try:
        doc = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["HTML part is not valid UTF-8: %s" % e]
    p = _Html()
    p.feed(doc)
    p.close()
    bad = list(p.problems)
    if p.stack:
        bad.append("tags never closed: %s" % p.stack)
    if p.svg or p.rects:
        bad.append("SVG in the digest: %d <svg>, %d <rect>" % (p.svg, p.rects))
    if browser:
        import digest_browser  # the figures, charts and top sentences, as Chromium lays them out
        bad += digest_browser.check(doc, text_digest)
    for title, lines in text_digest.lists.items():
        # Compared word by word: the text part may wrap a long item.
        t = " ".join(" ".join(lines).split())
        items = p.lists.get(title, ["(missing)"])
        if title in text_digest.more:
            items = items[:-1]  # "and N more"
        h = " ".join(" ".join(items).split())
        if t != h:
            bad.append("list %r: HTML %r, text %r" % (title, h, t))
    return bad


# ---- the figures, from the story ----

def _in(t, start, end):
    return start <= t < end


def _rating(answer):
    """The rating an answer starts with ("4 - we met..."), None without one."""
    m = re.match(r"\s*([1-5])\s*-", answer or "")
    return int(m.group(1)) if m else None


def newcomer_states(s, p, at):
    """(state, since) of newcomer p at moment at, from their mail: None, waiting, paired, done."""
    state, since = None, None
    for r in s.mail[p.user]:
        if r.at >= at:
            break
        k = r.kind
        if k == "welcome" or (k == "rematch" and state == "paired"):
            state, since = "waiting", r.at
        elif k == "introduction":
            state, since = "paired", r.at
        elif k in ("closing", "farewell"):
            state, since = "done", r.at
    return state, since


def silent_pairs(s, at):
    """Newcomers whose pair, at moment at, is 4 weeks old and had no check-in answer in 4 weeks."""
    silent = []
    for p in s.cast:
        if p.role != "newcomer":
            continue
        state, since = newcomer_states(s, p, at)
        if state != "paired" or since > at - 28 * DAY:
            continue
        refs = {r.ref for r in s.mail[p.user] if r.kind in ("checkin", "closing")
                and since <= r.at < at}
        answers = [x for x in s.sent if x.answering is not None and x.answering.ref in refs
                   and x.answering.kind in ("checkin", "closing")
                   and at - 28 * DAY <= x.now < at]
        if not answers:
            silent.append(p)
    return silent


def retention(s, days, start, end):
    """Of the newcomers confirmed days before a moment in [start, end), the % who wrote
    (to mentord or answering a check-in) since day days - 14; -1 when none reached it."""
    kept = []
    for p in s.cast:
        welcome = [r.at for r in s.mail[p.user] if r.kind == "welcome"]
        if p.role != "newcomer" or not welcome or not _in(welcome[0] + days * DAY, start, end):
            continue
        kept.append(any(x.user == p.user and welcome[0] + (days - 14) * DAY <= x.now < end
                        for x in s.sent))
    return -1 if not kept else (100 * sum(kept) + len(kept) // 2) // len(kept)


def covered(rcv):
    """How many check-ins a check-in mail carries: one per mentee line, else one."""
    if rcv.kind != "checkin":
        return 1
    return max(1, len(re.findall(r"^\s*\d+\. .*: It has been \d+ days", rcv.body, re.M)))


def welcomes_mentor(rcv):
    """Whether rcv welcomes a confirmed mentor: the welcome itself, or a proposal that
    carries it (mentor confirmed and proposed a newcomer in the same run)."""
    return rcv.kind == "mentor-welcome" or (
        rcv.kind == "proposal" and "Thank you for confirming" in " ".join(rcv.body.split()))


def unanswered(s, mentor, at):
    """Check-ins (one per mentee covered) and proposals mentor received since they last
    wrote, before at."""
    last = max([x.now for x in s.sent if x.user == mentor.user and x.now < at], default=0)
    return sum(covered(r) for r in s.mail[mentor.user]
               if r.kind in ("checkin", "proposal", "proposal-again") and last < r.at < at)


def expected(s, start, end):
    """Figures of [start, end) from the story: what people received and wrote.

    Returns {label: value} in the digest's units, and {list title: [expected items]}.
    """
    cast = s.cast
    newcomers = [p for p in cast if p.role == "newcomer"]

    def received(kind, who=cast):
        return [(p, r) for p in who for r in s.mail[p.user] if r.kind == kind
                and _in(r.at, start, end)]

    def welcomed_mentors(who=cast):
        return [(p, r) for p in who for r in s.mail[p.user] if welcomes_mentor(r)
                and _in(r.at, start, end)]

    def wrote(kinds):
        return [x for x in s.sent if x.answering is not None and x.answering.kind in kinds
                and _in(x.now, start, end)]

    fig = {}
    fig["Join and mentor requests"] = len(received("confirm-join") + received("confirm-mentor"))
    fig["Confirmed newcomers"] = len(received("welcome"))
    fig["Confirmed mentors"] = len(welcomed_mentors())
    waiting = []
    for p in newcomers:
        state, since = newcomer_states(s, p, end)
        if state == "waiting":
            waiting.append((since, p))
    fig["Waiting for a mentor"] = len(waiting)
    fig["Longest wait (days)"] = max([(end - t) // DAY for t, _ in waiting], default=0)
    fig["Matches proposed"] = len(received("proposal"))
    fig["Pairs started"] = len(received("introduction", newcomers))
    # A pair ends with its closing, a REMATCH, or the newcomer leaving (their mentor is told).
    fig["Pairs ended"] = len(received("closing", newcomers) + received("rematch", newcomers)
                             + received("partner-left"))
    fig["Active pairs"] = sum(1 for p in newcomers if newcomer_states(s, p, end)[0] == "paired")
    # A mentor's check-in may cover several mentees (one line each): each is a check-in,
    # and an answer naming nobody answers all of them.
    checkins = received("checkin")
    fig["Check-ins sent"] = sum(covered(r) for _, r in checkins)
    answered = wrote(("checkin",))
    sent_n = fig["Check-ins sent"]
    n_answered = sum(covered(x.answering) for x in answered)
    fig["Check-in response rate %"] = (-1 if sent_n == 0 else
                                       min(100, (100 * n_answered + sent_n // 2) // sent_n))
    # What each wrote is the story's own script: answer_for() is deterministic.
    ratings = []
    for x in wrote(("checkin", "closing")):
        r = _rating(story.answer_for(s.by_user[x.user], x.answering, x.now))
        if r is not None:
            ratings += [r] * covered(x.answering)
    fig["Average rating (1-5)"] = (-1 if not ratings else
                                   int(math.floor(sum(ratings) / len(ratings) * 10 + 0.5)))
    fig["Low ratings (1-2)"] = sum(1 for r in ratings if r <= 2)
    fig["Silent pairs (4 weeks)"] = len(silent_pairs(s, end))
    fig["Newcomers active at 30 days %"] = retention(s, 30, start, end)
    fig["Newcomers active at 90 days %"] = retention(s, 90, start, end)
    fig["Newly undeliverable"] = 0
    fig["Mail over the reply budget"] = 0
    converted = [p for p, _ in welcomed_mentors(newcomers)]
    # Erasure blanks a leaver's events (store_member_erase: member and detail), so their
    # LEAVE confirmation can no longer be told from a join request: the digest counts it.
    fig["erased leave requests"] = sum(1 for p, _ in received("confirm-leave")
                                       if s.kinds(p.user)[-1:] == ["farewell"])
    fig["Mentees who became mentors"] = len(converted)
    # A first mentee's thanks is in the mentor's first introduction, not a milestone mail.
    first_intros = [(p, r) for p in cast if p.role == "mentor"
                    for r in [next((x for x in s.mail[p.user] if x.kind == "introduction"
                                    and "your first mentee" in " ".join(x.body.split())), None)]
                    if r is not None and _in(r.at, start, end)]
    recognised = received("milestone") + first_intros
    fig["Mentors to recognise"] = len(recognised)
    lists = {
        "Waiting for a mentor, longest first": [
            "%d days %s <%s>" % ((end - t) // DAY, p.name, p.address)
            for t, p in sorted(waiting, key=lambda w: w[0])],
        "Low ratings, with the comments": [],
        "Undeliverable addresses": [],
        "Mentees who became mentors": [p.address for p in converted],
        "Mentors to recognise": sorted(p.address for p, _ in recognised),
    }
    return fig, lists
