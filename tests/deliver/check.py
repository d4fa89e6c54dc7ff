#!/usr/bin/env python3
"""Strict RFC 5322/2045/2047 check of the mails composed by test_deliver_render.

    python3 tests/deliver/check.py DIR

DIR holds reply-NAME.eml / new-NAME.eml (the composed message, CRLF) and
NAME.subject (the subject as rendered, UTF-8).  Each message is parsed with
Python's email package under a policy that raises on every defect, and the
headers receivers and list tools rely on are checked.  Prints one line per
failing message and "checks deliver: N messages passed, N failed" (a figure
tests/report.sh shows apart); exit 1 when any failed.
"""

import email
import email.policy
import email.utils
import os
import re
import sys

STRICT = email.policy.default.clone(raise_on_defect=True)
MEMBER_NAME = "Dániel Ørsted-Ñúñez"
COMMUNITY_NAME = "Open Source Café Zürich"
ANSWERED_ID = "<CAF=3x9+Q2sK_1mR@mail.example.test>"
EARLIER_REF = "<20250601.1234@lists.example.test>"
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")
MSGID = re.compile(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>$")


def check_raw(raw, problems):
    """Line ends, line lengths and 7-bit headers: what a strict MTA refuses."""
    if re.search(rb"(?<!\r)\n", raw) or re.search(rb"\r(?!\n)", raw):
        problems.append("bare CR or LF (RFC 5322 2.3 wants CRLF)")
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        problems.append("no blank line between header and body")
    for n, line in enumerate(raw.split(b"\r\n"), 1):
        if len(line) > 78:
            problems.append("line %d is %d characters (RFC 5322 2.1.1 asks <= 78)" % (n, len(line)))
    if any(b > 127 for b in head):
        problems.append("8-bit bytes in the header (RFC 2047 encoding missing)")
    for word in ENCODED_WORD.findall(head):
        if len(word) > 75:
            problems.append("encoded word longer than 75 characters (RFC 2047 2)")
    for line in head.split(b"\r\n"):
        if line[:1] not in (b" ", b"\t") and b":" not in line:
            problems.append("header line without a field name: %r" % line[:40])


def header_defects(msg, problems):
    for name, value in msg.items():
        for d in getattr(value, "defects", ()):
            problems.append("%s: %s" % (name, d.__class__.__name__))


def check_headers(name, msg, subject, problems):
    for field in ("Date", "Message-ID", "From", "To", "Subject", "MIME-Version",
                  "Auto-Submitted", "List-Id", "List-Unsubscribe"):
        if len(msg.get_all(field, [])) != 1:
            problems.append("%s appears %d times, want exactly 1"
                            % (field, len(msg.get_all(field, []))))
    if problems:
        return
    date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    if date.tzinfo is None:
        problems.append("Date without a time zone")
    if not MSGID.match(str(msg["Message-ID"]).strip()):
        problems.append("Message-ID %r is not <local@domain>" % str(msg["Message-ID"]))
    if str(msg["MIME-Version"]).strip() != "1.0":
        problems.append("MIME-Version is not 1.0")
    reply = name.startswith("reply-")
    want_auto = "auto-replied" if reply else "auto-generated"
    if str(msg["Auto-Submitted"]).split(";")[0].strip() != want_auto:
        problems.append("Auto-Submitted %r, want %s" % (str(msg["Auto-Submitted"]), want_auto))
    if not re.search(r"<[^<>\s]+>", str(msg["List-Id"])):
        problems.append("List-Id without <list-id>")
    if not re.search(r"<mailto:[^<>\s]+@[^<>\s]+>", str(msg["List-Unsubscribe"])):
        problems.append("List-Unsubscribe has no <mailto:...> URI")
    if str(msg["Subject"]) != subject:
        problems.append("Subject decodes to %r, rendered %r" % (str(msg["Subject"]), subject))
    sender = msg["From"].addresses
    if len(sender) != 1 or sender[0].display_name != COMMUNITY_NAME:
        problems.append("From is %r" % str(msg["From"]))
    to = msg["To"].addresses
    if len(to) != 1 or not to[0].addr_spec:
        problems.append("To is %r" % str(msg["To"]))
    elif "undeliverable" not in name and to[0].display_name != MEMBER_NAME:
        problems.append("To name decodes to %r" % to[0].display_name)
    if reply:
        if str(msg.get("In-Reply-To", "")).strip() != ANSWERED_ID:
            problems.append("In-Reply-To %r, want %s" % (msg.get("In-Reply-To"), ANSWERED_ID))
        refs = str(msg.get("References", "")).split()
        if not refs or refs[-1] != ANSWERED_ID or EARLIER_REF not in refs:
            problems.append("References %r do not end with the answered message" % refs)
    elif msg.get("In-Reply-To") is not None:
        problems.append("In-Reply-To on a message that answers nothing")


def check_body(msg, problems):
    parts = list(msg.walk())
    texts = [p for p in parts if p.get_content_type() == "text/plain"]
    if not texts:
        problems.append("no text/plain part")
    for part in parts:
        if part.is_multipart():
            continue
        cte = part.get("Content-Transfer-Encoding", "7bit").strip().lower()
        if cte not in ("7bit", "quoted-printable", "base64"):
            problems.append("Content-Transfer-Encoding %s" % cte)
        if part.get_content_maintype() == "text" and part.get_content_charset() not in (
                "utf-8", "us-ascii"):
            problems.append("charset %r" % part.get_content_charset())
        payload = part.get_payload(decode=True)
        if cte == "7bit" and any(b > 127 for b in payload):
            problems.append("8-bit text declared 7bit")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("body is not UTF-8: %s" % e)
            continue
        if "{{" in text or "}}" in text:
            problems.append("an unrendered {{...}} in the body")
        if part.defects:
            problems.append("part defects: %r" % part.defects)


def check_file(path):
    problems = []
    with open(path, "rb") as f:
        raw = f.read()
    with open(path[:-4] + ".subject", encoding="utf-8") as f:
        subject = f.read()
    check_raw(raw, problems)
    try:
        msg = email.message_from_bytes(raw, policy=STRICT)
        header_defects(msg, problems)
        check_headers(os.path.basename(path), msg, subject, problems)
        check_body(msg, problems)
        for part in msg.walk():
            if part.defects:
                problems.append("defects: %r" % part.defects)
    except Exception as e:  # a raised defect is the verdict, whatever its class
        problems.append("strict parse raised %s: %s" % (e.__class__.__name__, e))
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check.py DIR")
    folder = sys.argv[1]
    files = sorted(f for f in os.listdir(folder) if f.endswith(".eml"))
    passed = failed = 0
    for name in files:
        problems = check_file(os.path.join(folder, name))
        if problems:
            failed += 1
            for p in problems:
                print("deliver: %s: %s" % (name, p))
        else:
            passed += 1
    if not files:
        failed += 1
        print("deliver: no .eml files in %s" % folder)
    # A figure, not a count of test cases: the cmocka case that runs this is the test.
    print("checks deliver: %d messages passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
