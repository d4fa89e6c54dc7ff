#!/usr/bin/env python3
"""OAuth 2.0 end-to-end tests: mentord against Dovecot (oauth2 passdb) and Postfix
submission (Dovecot SASL) with a local authorization-server stand-in
(tests/e2e/oauthbed/).

Run through tests/e2e/run.sh, or by hand (as root, MENTORD_BIN and MENTORCTL_BIN
set or build/ built):

    python3 tests/e2e/test_oauth.py [test_name ...]

The test-bed is started here, in a temp folder, and stopped at the end.  Every
test asserts what happened to real mail (who got what, what waits where) and
keeps everything mentord and mentorctl printed; the last test looks for every
token the stand-in ever issued in all of it and in the servers' logs.

Prints one PASS/FAIL line per test and ends with "e2e-oauth: N passed, N failed".
"""

import json
import os
import re
import shutil
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402
import test_e2e  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BED_SH = os.path.join(HERE, "oauthbed", "oauthbed.sh")
DOMAIN = "example.org"
BED = {}
OUTPUTS = []  # everything mentord and mentorctl printed, for the token check
SEQ = [0]


def addr(user):
    return "%s@%s" % (user, DOMAIN)


# ---- the stand-in ----

def admin(op, **form):
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(BED["OB_OAUTH_URL"] + "/admin/" + op, data, timeout=10) as r:
        return json.load(r)


def stats():
    with urllib.request.urlopen(BED["OB_OAUTH_URL"] + "/admin/stats", timeout=10) as r:
        return json.load(r)


def issued_tokens():
    with urllib.request.urlopen(BED["OB_OAUTH_URL"] + "/admin/tokens", timeout=10) as r:
        return json.load(r)["tokens"]


def refreshes():
    return stats().get("refresh_token", 0)


# ---- mail ----

def send(frm, subject, body="help"):
    """Mail from outside to mentors@, through the test-bed's MX listener."""
    SEQ[0] += 1
    m = EmailMessage()
    m["From"] = addr(frm)
    m["To"] = addr("mentors")
    m["Subject"] = subject
    m["Message-ID"] = "<oauth-%d-%d@%s>" % (os.getpid(), SEQ[0], DOMAIN)
    m["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    m.set_content(body)
    with smtplib.SMTP("127.0.0.1", int(BED["OB_MX_PORT"]), timeout=10) as s:
        s.send_message(m)


def maildir(user, folder=""):
    base = os.path.join(BED["OB_DIR"], "mail", DOMAIN, user, "Maildir")
    return os.path.join(base, "." + folder) if folder else base


def count(user, folder=""):
    n = 0
    for sub in ("new", "cur"):
        d = os.path.join(maildir(user, folder), sub)
        if os.path.isdir(d):
            n += len(os.listdir(d))
    return n


def subjects(user):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir(user), sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                head = f.read(8192).decode("utf-8", "replace")
            m = re.search(r"^Subject: (.*)$", head, re.M)
            out.append(m.group(1).strip() if m else "")
    return out


def wait_until(fn, timeout=30, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(step)
    return fn()


def empty_mailboxes():
    for user in ("mentors", "ann", "boss"):
        for folder in ("", "Processed"):
            for sub in ("new", "cur"):
                d = os.path.join(maildir(user, folder), sub)
                if os.path.isdir(d):
                    for name in os.listdir(d):
                        os.unlink(os.path.join(d, name))


def log_of(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def private(path):
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


# ---- the bed ----

def start_bed():
    d = tempfile.mkdtemp(prefix="mentord-oauthbed.", dir="/tmp")
    os.chmod(d, 0o755)
    r = subprocess.run(["sh", BED_SH, "start", d], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("the OAuth test-bed did not start: " + r.stderr[-2000:])
    with open(os.path.join(d, "oauthbed.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            BED[k] = v
    return d


def stop_bed(d):
    subprocess.run(["sh", BED_SH, "stop", d], stdin=subprocess.DEVNULL, timeout=60)
    shutil.rmtree(d, ignore_errors=True)


class OAuth(unittest.TestCase):
    """Each test has its own folder, configuration, database and refresh token."""

    def setUp(self):
        empty_mailboxes()
        self.dir = tempfile.mkdtemp(prefix="oauth-", dir=BED["OB_DIR"])
        self.rt_file = os.path.join(self.dir, "refresh-token")
        self.procs = []
        admin("config", ttl="3600", rotate="0", down="0")

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                mb.stop_mentord(p)
            OUTPUTS.append(mb.daemon_log(p))
        admin("config", ttl="3600", rotate="0", down="0")

    # -- helpers --

    def seed(self):
        """A fresh refresh token for mentors@ in this test's file; returns it."""
        rt = admin("seed", user=addr("mentors"), client_id="mentord")["refresh_token"]
        with open(self.rt_file, "w") as f:
            f.write(rt + "\n")
        os.chmod(self.rt_file, 0o600)
        return rt

    def config(self, imap_auth="xoauth2", smtp_auth="xoauth2", **extra):
        smtp_port = BED["OB_SMTP_X_PORT"] if smtp_auth == "xoauth2" else BED["OB_SMTP_PORT"]
        url = BED["OB_OAUTH_URL"]
        sections = {
            "community": {"name": "Example Community", "address": addr("mentors"),
                          "managers": addr("boss")},
            "imap": {"host": "127.0.0.1", "port": BED["OB_IMAP_PORT"], "security": "none",
                     "auth": imap_auth, "user": addr("mentors"), "poll_interval": "1"},
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                     "auth": smtp_auth, "user": addr("mentors"), "retry_base": "60"},
            "oauth2": {"token_url": url + "/token", "device_url": url + "/devicecode",
                       "authorize_url": url + "/authorize",
                       "introspection_url": url + "/introspect", "client_id": "mentord",
                       "refresh_token_file": self.rt_file, "scope": "openid mail"},
            "store": {"path": os.path.join(self.dir, "mentord.db")},
            "templates": {"dir": os.path.join(mb.REPO, "templates")},
            "log": {"level": "debug"},
        }
        for name, value in extra.items():
            section, _, key = name.partition("__")
            sections.setdefault(section, {})[key] = value
        path = os.path.join(self.dir, "mentord.ini")
        with open(path, "w") as f:
            for section, keys in sections.items():
                f.write("[%s]\n" % section)
                f.writelines("%s = %s\n" % kv for kv in keys.items())
        self.cfg = path
        return path

    def once(self):
        rc, out, err = mb.run_mentord(self.cfg, "--once")
        OUTPUTS.append(out + err)
        return rc, out + err

    def ctl(self, *args):
        rc, out, err = mb.run_mentorctl(self.cfg, *args)
        OUTPUTS.append(out + err)
        return rc, out + err

    def start(self):
        p = mb.start_mentord(self.cfg, log=os.path.join(self.dir, "mentord-%d.log"
                                                         % len(self.procs)))
        self.procs.append(p)
        self.assertTrue(mb.wait_log(p, r"IMAP: connected", 30), mb.daemon_log(p))
        return p

    def outbox(self):
        return mb.sqlite(os.path.join(self.dir, "mentord.db"),
                         "SELECT recipient, status, attempts, headers FROM outbox ORDER BY id")

    # -- tests --

    def test_xoauth2_imap_and_smtp(self):
        self.seed()
        self.config("xoauth2", "xoauth2")
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("mentors") == 1))
        rc, out = self.once()
        self.assertEqual(rc, 0, out)
        self.assertTrue(wait_until(lambda: count("ann") == 1), out)
        self.assertEqual(count("mentors"), 0)
        self.assertEqual(count("mentors", "Processed"), 1)
        self.assertIn("method=XOAUTH2", log_of(os.path.join(BED["OB_DIR"], "log",
                                                             "dovecot.log")))
        self.assertTrue(wait_until(lambda: "sasl_method=XOAUTH2, sasl_username=mentors@"
                                   in log_of(os.path.join(BED["OB_DIR"], "log", "postfix.log"))))

    def test_oauthbearer_imap_and_smtp(self):
        self.seed()
        self.config("oauthbearer", "oauthbearer")
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("mentors") == 1))
        rc, out = self.once()
        self.assertEqual(rc, 0, out)
        self.assertTrue(wait_until(lambda: count("ann") == 1), out)
        self.assertIn("method=OAUTHBEARER", log_of(os.path.join(BED["OB_DIR"], "log",
                                                                 "dovecot.log")))
        self.assertTrue(wait_until(lambda: "sasl_method=OAUTHBEARER, sasl_username=mentors@"
                                   in log_of(os.path.join(BED["OB_DIR"], "log", "postfix.log"))))

    def test_token_expiring_mid_run_is_refreshed_without_loss_or_repeat(self):
        """Access tokens live 6 s and every refresh rotates the refresh token; three
        mails arrive more than a token's lifetime apart, and the daemon is restarted
        between the second and the third (so the rotated token must have been saved)."""
        first_rt = self.seed()
        admin("config", ttl="6", rotate="1")
        self.config("xoauth2", "xoauth2")
        before = refreshes()
        p = self.start()
        for k in (1, 2, 3):
            if k > 1:
                time.sleep(7)  # the token mentord holds is now expired
            if k == 3:
                self.assertEqual(mb.stop_mentord(p), 0)
                p = self.start()
            send("ann", "help")
            self.assertTrue(wait_until(lambda: count("ann") == k, 40),
                            "reply %d missing:\n%s" % (k, mb.daemon_log(p)))
        time.sleep(2)  # a repeated reply would have arrived by now
        self.assertEqual(count("ann"), 3)
        self.assertEqual(count("mentors"), 0)
        self.assertEqual(count("mentors", "Processed"), 3)
        self.assertEqual([r[1] for r in self.outbox()], ["sent"] * 3)
        self.assertGreaterEqual(refreshes() - before, 3)
        logs = "".join(mb.daemon_log(q) for q in self.procs)
        self.assertNotIn("refused", logs)  # refreshed before it expired, never after
        self.assertIn("refresh token was rotated", logs)
        with open(self.rt_file) as f:
            self.assertNotEqual(f.read().strip(), first_rt)
        self.assertTrue(private(self.rt_file))

    def test_refused_token_is_refreshed_once_and_mail_goes_out(self):
        self.seed()
        self.config("xoauth2", "xoauth2")
        p = self.start()
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("ann") == 1), mb.daemon_log(p))
        # The server stops accepting the token mentord holds (it believes it still good).
        before = refreshes()
        admin("expire-user", user=addr("mentors"))
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("ann") == 2, 40), mb.daemon_log(p))
        self.assertIn("smtp: the server refused the access token; fetching a new one",
                      mb.daemon_log(p))
        self.assertEqual(refreshes() - before, 1)
        # And IMAP: the session is dropped; the next login is refused once, then works.
        admin("expire-user", user=addr("mentors"))
        subprocess.run(["doveadm", "-c", BED["OB_DOVECOT_CONF"], "kick", addr("mentors")],
                       capture_output=True, timeout=30)
        self.assertTrue(mb.wait_log(p, r"IMAP: the server refused the access token", 40),
                        mb.daemon_log(p))
        self.assertTrue(wait_until(lambda: mb.daemon_log(p).count("IMAP: connected") >= 2, 40))
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("ann") == 3, 40), mb.daemon_log(p))
        time.sleep(1)
        self.assertEqual(count("ann"), 3)
        self.assertEqual([(r[1], r[2]) for r in self.outbox()], [("sent", 0)] * 3)
        self.assertEqual(mb.stop_mentord(p), 0)

    def test_token_endpoint_down_mail_waits_then_goes(self):
        """The token endpoint fails (503) when the token must be refreshed: the open
        IMAP session goes on reading, the answer waits in the outbox without a failed
        attempt, the endpoint is not hammered, and the mail goes once it is back."""
        self.seed()
        admin("config", ttl="6")
        self.config("xoauth2", "xoauth2")
        p = self.start()
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("ann") == 1), mb.daemon_log(p))
        admin("config", down="1")
        time.sleep(7)  # the access token mentord holds has expired
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("mentors", "Processed") == 2, 40),
                        mb.daemon_log(p))
        self.assertTrue(mb.wait_log(p, r"WARN oauth: cannot fetch an access token now", 20))
        time.sleep(6)
        log = mb.daemon_log(p)
        self.assertEqual(count("ann"), 1)
        self.assertEqual([(r[1], r[2]) for r in self.outbox()], [("sent", 0), ("queued", 0)])
        self.assertEqual(len(re.findall(r"cannot fetch an access token now", log)), 1, log)
        self.assertLessEqual(stats().get("down", 0), 3)  # spaced out, not every second
        admin("config", down="0", ttl="3600")
        self.assertTrue(wait_until(lambda: count("ann") == 2, 60), mb.daemon_log(p))
        self.assertIn("the token endpoint answers again", mb.daemon_log(p))
        self.assertEqual([r[1] for r in self.outbox()], ["sent", "sent"])
        self.assertEqual(mb.stop_mentord(p), 0)

    def test_revoked_refresh_token_stops_cleanly_then_device_flow_resumes(self):
        rt = self.seed()
        self.config("xoauth2", "xoauth2")
        p = self.start()
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("ann") == 1), mb.daemon_log(p))
        admin("revoke", token=rt)  # kills its access tokens too
        # A mail read on the open session: its answer cannot be sent and must wait.
        send("ann", "help")
        self.assertTrue(mb.wait_log(p, r"ERROR oauth: .*oauth authorize", 40), mb.daemon_log(p))
        self.assertTrue(wait_until(lambda: count("mentors") == 0))
        # The session goes; the next mail must wait in the mailbox.
        subprocess.run(["doveadm", "-c", BED["OB_DOVECOT_CONF"], "kick", addr("mentors")],
                       capture_output=True, timeout=30)
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("mentors") == 1))
        asked = refreshes()
        time.sleep(8)
        log = mb.daemon_log(p)
        self.assertIsNone(p.poll(), "mentord exited:\n" + log)
        self.assertEqual(count("mentors"), 1)  # waits in the inbox
        self.assertEqual(count("ann"), 1)
        rows = self.outbox()
        self.assertEqual([(r[0], r[1], r[2]) for r in rows],
                         [(addr("ann"), "sent", 0), (addr("ann"), "queued", 0),
                          (addr("boss"), "queued", 0)])
        self.assertIn("cannot log in to the mailbox", rows[2][3])
        self.assertEqual(len(re.findall(r"ERROR oauth:", log)), 1, log)  # one clear error
        self.assertLessEqual(refreshes() - asked, 1)  # no hammering of the token endpoint
        # The admin authorises again with the device flow; mentord resumes by itself.
        rc, out = self.ctl("oauth", "authorize")
        self.assertEqual(rc, 0, out)
        self.assertIn("ABCD-EFGH", out)
        self.assertIn("Authorised by mentors@example.org", out)
        self.assertTrue(private(self.rt_file))
        self.assertTrue(wait_until(lambda: count("ann") == 3 and count("boss") == 1, 40),
                        mb.daemon_log(p))
        self.assertEqual(count("mentors"), 0)
        self.assertIn("authorised again", mb.daemon_log(p))
        self.assertEqual([r[1] for r in self.outbox()], ["sent"] * 4)
        rc, out = self.ctl("oauth", "status")
        self.assertEqual(rc, 0, out)
        self.assertIn("account: mentors@example.org", out)
        self.assertIn("scope: openid mail", out)
        self.assertEqual(mb.stop_mentord(p), 0)
        # Told once: a second refusal episode after a restart would tell again, this one not.
        events = mb.sqlite(os.path.join(self.dir, "mentord.db"),
                           "SELECT kind FROM events WHERE kind LIKE 'oauth-%' ORDER BY id")
        self.assertEqual([e[0] for e in events], ["oauth-refused", "oauth-ok"])

    def test_code_flow_with_pkce_stores_a_working_token(self):
        port = free_port()
        self.config("oauthbearer", "xoauth2", oauth2__flow="code",
                    oauth2__redirect_port=str(port))
        p = subprocess.Popen([mb._bin("MENTORCTL_BIN", "mentorctl"), "-c", self.cfg, "oauth",
                              "authorize"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        out = ""
        url = None
        while url is None:
            line = p.stdout.readline()
            if not line:
                break
            out += line
            m = re.match(r"\s+(http://127\.0\.0\.1:\d+/authorize\?\S+)", line)
            url = m.group(1) if m else None
        self.assertIsNotNone(url, out)
        q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        self.assertEqual(q["code_challenge_method"], ["S256"])
        self.assertEqual(q["redirect_uri"], ["http://127.0.0.1:%d/" % port])
        # The "browser": the stand-in approves and redirects to mentorctl's loopback listener.
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertIn("authorised", r.read().decode())
        out += p.stdout.read()  # not communicate(): it would skip what readline buffered
        p.wait(timeout=30)
        OUTPUTS.append(out)
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("ssh -L %d:127.0.0.1:%d" % (port, port), out)  # usable over SSH
        self.assertTrue(private(self.rt_file))
        send("ann", "help")
        self.assertTrue(wait_until(lambda: count("mentors") == 1))
        rc, log = self.once()
        self.assertEqual(rc, 0, log)
        self.assertTrue(wait_until(lambda: count("ann") == 1), log)

    def test_no_secret_in_check_config_or_status(self):
        self.seed()
        secret = os.path.join(self.dir, "client-secret")
        with open(secret, "w") as f:
            f.write("not-so-secret-client-secret\n")
        os.chmod(secret, 0o600)
        self.config("xoauth2", "xoauth2", oauth2__client_secret_file=secret)
        rc, out, err = mb.run_mentord(self.cfg, "--check-config")
        OUTPUTS.append(out + err)
        self.assertEqual(rc, 0, err)
        self.assertIn("auth = xoauth2", out)
        self.assertIn("client_secret = ********", out)
        self.assertNotIn("not-so-secret", out)
        rc, out = self.ctl("oauth", "status")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("not-so-secret", out)
        self.assertRegex(out, r"access token expires: .* \(in 59|60 minutes\)")
        # A refused authorisation is one clear line with what to run, and exit status 1.
        admin("revoke", token=open(self.rt_file).read().strip())
        rc, out = self.once()
        self.assertEqual(rc, 1, out)
        self.assertIn("oauth authorize", out)
        self.assertEqual(len(re.findall(r"ERROR oauth:", out)), 1, out)

    def test_zz_no_token_in_any_output(self):
        """Every token the stand-in issued, looked for in everything mentord and
        mentorctl printed in this run, and in Dovecot's and Postfix's logs."""
        tokens = issued_tokens()
        self.assertGreater(len(tokens), 10)
        texts = list(OUTPUTS)
        for name in os.listdir(os.path.join(BED["OB_DIR"], "log")):
            texts.append(log_of(os.path.join(BED["OB_DIR"], "log", name)))
        self.assertGreater(len(OUTPUTS), 8)
        found = [(t[:6], i) for t in tokens for i, text in enumerate(texts) if t in text]
        self.assertEqual(found, [])
        # And, in the sanitizer build, no ASan/UBSan/LSan report anywhere.
        reports = [mb.sanitizer_report(text) for text in OUTPUTS]
        self.assertEqual([r for r in reports if r], [])


def main(argv):
    if os.geteuid() != 0:
        print("e2e-oauth: needs root for the test-bed's servers; 0 passed, 1 failed")
        return 1
    d = start_bed()
    try:
        names = [n for n in unittest.TestLoader().getTestCaseNames(OAuth)]
        return test_e2e.run_suite(OAuth, names, argv[1:], "e2e-oauth")
    finally:
        stop_bed(d)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
