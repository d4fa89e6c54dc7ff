"""mailbed: drive the mail test-bed (tests/e2e/testbed.sh) from Python.

Standard library only.  The test-bed's settings come from the testbed.env file
named by $TESTBED_ENV (written by `testbed.sh start DIR`); mentord's binaries
from $MENTORD_BIN and $MENTORCTL_BIN (set by tests/e2e/run.sh).

    import mailbed as mb
    mb.reset()
    mid = mb.send("ann", "mentors", "join", "Hi, I'd like a mentor")
    cfg = mb.write_config(tmpdir + "/mentord.ini")
    rc, out, err = mb.run_mentord(cfg, "--once")
    [reply] = mb.wait_for("ann", 1)
"""

import email
import email.message
import email.policy
import email.utils
import imaplib
import os
import re
import signal
import smtplib
import sqlite3
import ssl
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTBED_SH = os.path.join(HERE, "testbed.sh")

_env = None


def env(path=None):
    """The test-bed's settings (TB_* keys) as a dict, read once from testbed.env."""
    global _env
    if _env is not None and path is None:
        return _env
    path = path or os.environ.get("TESTBED_ENV")
    if not path:
        raise RuntimeError("TESTBED_ENV is not set: start the test-bed with tests/e2e/run.sh")
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key] = value
    for key in ("TB_IMAP_PORT", "TB_IMAPS_PORT", "TB_SMTP_PORT", "TB_SUBMISSION_PORT",
                "TB_SMTPS_PORT"):
        values[key] = int(values[key])
    _env = values
    return values


def addr(user):
    """'ann' -> 'ann@example.test'; full addresses pass through."""
    return user if "@" in user else "%s@%s" % (user, env()["TB_DOMAIN"])


def testbed(command):
    """Run `testbed.sh COMMAND TB_DIR` (reset, stop-smtp, start-smtp, ...)."""
    r = subprocess.run(["sh", TESTBED_SH, command, env()["TB_DIR"]], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("testbed.sh %s failed (%d): %s" % (command, r.returncode, r.stdout))


def reset():
    """Empty every user's folders."""
    testbed("reset")


# ---- sending ----

def make_message(from_user, to_user, subject, body, headers=None):
    """An email.message.EmailMessage from from_user to to_user (UTF-8 as needed)."""
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = addr(from_user)
    msg["To"] = addr(to_user)
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=env()["TB_DOMAIN"])
    for name, value in (headers or {}).items():
        del msg[name]
        if value is not None:
            msg[name] = value
    msg.set_content(body)
    return msg


def send(from_user, to_user, subject="", body="", headers=None, raw=None, wait=True,
         envelope_from=None):
    """Send one mail through Postfix's plain SMTP port, as a member's MUA would.

    headers: extra or replacing headers ({"From": "Ann <ann@example.test>"};
    None as a value removes one).  raw: the complete message as bytes/str,
    sent unchanged (subject/body/headers ignored).  envelope_from: the SMTP
    MAIL FROM ("" for a bounce), default the from address.  With wait, returns
    only once the mail is in to_user's INBOX.  Returns the Message-ID (or None
    when a raw message has none).
    """
    if raw is not None:
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        data = re.sub(rb"\r?\n", b"\r\n", data)
        found = re.search(rb"^Message-ID:\s*(<[^>\r\n]*>)", data, re.I | re.M)
        message_id = found.group(1).decode("ascii", "replace") if found else None
    else:
        msg = make_message(from_user, to_user, subject, body, headers)
        data = msg.as_bytes()
        message_id = msg["Message-ID"]
    sender = addr(from_user) if envelope_from is None else envelope_from
    before = count(to_user) if wait else 0
    with smtplib.SMTP("127.0.0.1", env()["TB_SMTP_PORT"], timeout=30) as s:
        refused = s.sendmail(sender, [addr(to_user)], data)
        if refused:
            raise RuntimeError("SMTP refused %s: %r" % (to_user, refused))
    if wait:
        wait_count(to_user, before + 1, timeout=10)
    return message_id


# ---- reading ----

def _imap(user):
    """A logged-in IMAP4 session over STARTTLS that verifies the test-bed's CA."""
    e = env()
    ctx = ssl.create_default_context(cafile=e["TB_CA"])
    m = imaplib.IMAP4("127.0.0.1", e["TB_IMAP_PORT"], timeout=30)
    m.starttls(ssl_context=ctx)
    m.login(addr(user), e["TB_PASSWORD"])
    return m


def _quote(folder):
    return '"%s"' % folder.replace("\\", "\\\\").replace('"', '\\"')


def mailbox(user, folder="INBOX"):
    """The mails in user's folder, oldest first, as email.message.EmailMessage.

    Each has .raw (the exact bytes) and .uid.  A missing folder reads as empty.
    Reading does not set \\Seen.
    """
    m = _imap(user)
    try:
        typ, _ = m.select(_quote(folder), readonly=True)
        if typ != "OK":
            return []
        typ, data = m.uid("SEARCH", None, "ALL")
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        out = []
        for uid in uids:
            typ, data = m.uid("FETCH", uid, "(BODY.PEEK[])")
            if typ != "OK":
                raise RuntimeError("IMAP FETCH %s in %s/%s: %r" % (uid, user, folder, data))
            raw = next(part[1] for part in data if isinstance(part, tuple))
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            msg.raw = raw
            msg.uid = int(uid)
            out.append(msg)
        return out
    finally:
        _logout(m)


def _logout(m):
    try:
        m.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def count(user, folder="INBOX"):
    """Number of mails in user's folder (0 when the folder does not exist)."""
    m = _imap(user)
    try:
        typ, data = m.status(_quote(folder), "(MESSAGES)")
        if typ != "OK":
            return 0
        found = re.search(rb"MESSAGES (\d+)", data[0])
        return int(found.group(1)) if found else 0
    finally:
        _logout(m)


def folders(user):
    """Names of user's folders."""
    m = _imap(user)
    try:
        typ, data = m.list()
        names = []
        for line in data if typ == "OK" else []:
            found = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line)
            if found:
                names.append(found.group(1).decode().strip('"'))
        return names
    finally:
        _logout(m)


def delete_folder(user, folder):
    """Delete a folder (and its mail); 1 when it existed."""
    m = _imap(user)
    try:
        typ, _ = m.delete(_quote(folder))
        return typ == "OK"
    finally:
        _logout(m)


# Waits end as soon as the mail is there, so a generous limit costs a passing
# test nothing; on a loaded machine (a CI runner, parallel builds) Postfix and
# Dovecot can take several times longer than on a quiet one.  The factor can
# be set for a slower machine still.
WAIT_SCALE = float(os.environ.get("MENTORD_E2E_WAIT_SCALE", "3"))


def wait_count(user, n, timeout=10, folder="INBOX"):
    """Wait until user's folder holds at least n mails; returns the count."""
    timeout *= WAIT_SCALE
    deadline = time.monotonic() + timeout
    while True:
        c = count(user, folder)
        if c >= n or time.monotonic() > deadline:
            if c < n:
                raise TimeoutError("%s/%s has %d mail(s) after %g s, wanted %d"
                                   % (user, folder, c, timeout, n))
            return c
        time.sleep(0.05)


def wait_for(user, count_=1, timeout=10, folder="INBOX"):
    """Wait until user's folder holds at least count_ mails, then return them all."""
    wait_count(user, count_, timeout, folder)
    return mailbox(user, folder)


def body_text(msg):
    """The text/plain body of msg, decoded to str."""
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    if part is None:
        return ""
    return part.get_content()


# ---- mentord ----

def write_config(path, **overrides):
    """Write a mentord INI for the test-bed at path and return path.

    Overrides are section__key=value (imap__port=..., community__name="X");
    a value of None removes the key.  The database goes beside the file.
    """
    e = env()
    base = os.path.dirname(os.path.abspath(path))
    sections = {
        "community": {
            "name": "Example Community",
            "address": addr("mentors"),
            "managers": addr("boss"),
        },
        "imap": {
            "host": "127.0.0.1",
            "port": e["TB_IMAPS_PORT"],
            "security": "tls",
            "tls_ca_file": e["TB_CA"],
            "user": addr("mentors"),
            "password_file": e["TB_PASSFILE"],
            "mailbox": "INBOX",
            "processed_mailbox": "Processed",
            "poll_interval": 1,
            "idle": "yes",
        },
        "smtp": {
            "host": "127.0.0.1",
            "port": e["TB_SUBMISSION_PORT"],
            "security": "starttls",
            "tls_ca_file": e["TB_CA"],
            "user": addr("mentors"),
            "password_file": e["TB_PASSFILE"],
        },
        "store": {"path": os.path.join(base, "mentord.db")},
        "templates": {"dir": os.path.join(REPO, "templates")},
        "log": {"level": "debug"},
    }
    for name, value in overrides.items():
        section, _, key = name.partition("__")
        if not key:
            raise ValueError("override %r: use section__key" % name)
        if value is None:
            sections.get(section, {}).pop(key, None)
        else:
            sections.setdefault(section, {})[key] = value
    lines = ["; mentord configuration for the e2e test-bed (written by mailbed.py)"]
    for section, keys in sections.items():
        lines.append("")
        lines.append("[%s]" % section)
        lines.extend("%s = %s" % (k, v) for k, v in keys.items())
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def db_path(config):
    """The [store] path of a config file written by write_config."""
    with open(config, encoding="utf-8") as f:
        section = None
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "store" and line.startswith("path"):
                return line.split("=", 1)[1].strip()
    raise KeyError("no [store] path in %s" % config)


def _bin(var, default):
    path = os.environ.get(var) or os.path.join(REPO, "build", default)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError("%s: %s is not an executable (is it built?)" % (var, path))
    return path


def _env_with(extra):
    e = dict(os.environ)
    e.update(extra or {})
    return e


def run_mentord(config, *args, env=None, timeout=60):
    """Run `mentord -c config ARGS...` to completion; returns (rc, stdout, stderr)."""
    cmd = [_bin("MENTORD_BIN", "mentord"), "-c", config, *args]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           env=_env_with(env), timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s timed out after %ss; stderr: %s"
                             % (" ".join(cmd), timeout, _text(e.stderr)[-2000:]))
    return r.returncode, _text(r.stdout), _text(r.stderr)


def run_mentorctl(config, *args, env=None, timeout=60):
    """Run `mentorctl -c config ARGS...`; returns (rc, stdout, stderr)."""
    cmd = [_bin("MENTORCTL_BIN", "mentorctl"), "-c", config, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       env=_env_with(env), timeout=timeout)
    return r.returncode, _text(r.stdout), _text(r.stderr)


def _text(b):
    if b is None:
        return ""
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def start_mentord(config, *args, env=None, log=None):
    """Start mentord in daemon mode; returns the Popen.

    stdout and stderr go to a file (log, default beside the config) so a chatty
    daemon never blocks on a full pipe: proc.log_path, read with daemon_log(proc).
    """
    log = log or os.path.join(os.path.dirname(os.path.abspath(config)), "mentord.log")
    f = open(log, "ab")
    try:
        proc = subprocess.Popen([_bin("MENTORD_BIN", "mentord"), "-c", config, *args],
                                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                env=_env_with(env))
    finally:
        f.close()
    proc.log_path = log
    return proc


def daemon_log(proc):
    with open(proc.log_path, "rb") as f:
        return _text(f.read())


def wait_log(proc, pattern, timeout=10):
    """Wait until the daemon's log matches the regex pattern; True when it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, daemon_log(proc)):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def stop_mentord(proc, sig=signal.SIGTERM, timeout=5):
    """Signal the daemon and wait for it; returns its exit code (None when it hung,
    in which case it is killed)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


SANITIZER_RE = re.compile(r"^.*(?:ERROR: (?:Address|Leak|Memory|Thread)Sanitizer|"
                          r"runtime error:|SUMMARY: \w+Sanitizer).*$", re.M)


def sanitizer_report(text):
    """The first line of an ASan/UBSan/LSan report in text, or None."""
    found = SANITIZER_RE.search(text or "")
    return found.group(0) if found else None


def sqlite(dbpath, sql, params=()):
    """Run one SQL statement on mentord's database; returns the rows as tuples."""
    con = sqlite3.connect(dbpath, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def make_ca(directory):
    """A second, unrelated self-signed CA (PEM path) for certificate-failure tests."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, "other-ca.pem")
    key = os.path.join(directory, "other-ca.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost/O=not the test-bed", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return cert


# ---- checks of a played story (test_programme_e2e, test_programme_kill) ----

class Failure(AssertionError):
    """A check that does not hold: reported by its message, without a traceback."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def run_checks(obj, wanted):
    """Run obj's check_* methods (only those named in wanted, when it is not
    empty; with or without the "check_" prefix), printing PASS or FAIL for
    each.  Returns (passed, failed)."""
    import traceback
    passed = failed = 0
    for name in sorted(n for n in dir(obj) if n.startswith("check_")):
        if wanted and name not in wanted and name[6:] not in wanted:
            continue
        try:
            getattr(obj, name)()
            passed += 1
            print("PASS %s" % name[6:], flush=True)
        except Exception as e:
            failed += 1
            reason = str(e).strip() or type(e).__name__
            print("FAIL %s: %s" % (name[6:], reason), flush=True)
            if not isinstance(e, Failure):
                print("    " + traceback.format_exc().rstrip().replace("\n", "\n    "),
                      flush=True)
    return passed, failed

