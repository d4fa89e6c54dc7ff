#!/usr/bin/env python3
"""Tiny OAuth 2.0 authorization-server stand-in for mentord's offline XOAUTH2/OAUTHBEARER tests.

NOT secure; test use only. Stdlib only. In-memory state, lost at exit.

Endpoints (form-encoded requests, JSON answers):
  POST /token        grant_type=refresh_token      (refresh_token, client_id[, client_secret][, scope])
                     grant_type=client_credentials (client_id, client_secret)  -> token for --cc-user
                     grant_type=urn:ietf:params:oauth:grant-type:device_code  (device_code, client_id)
                     grant_type=authorization_code (code, redirect_uri, code_verifier: PKCE S256)
  POST /devicecode   client_id, scope -> {device_code, user_code, verification_uri, expires_in, interval}
                     (auto-approved after the first poll, which answers authorization_pending)
  GET  /authorize    response_type=code, client_id, redirect_uri, state, code_challenge(_method)
                     -> 302 to redirect_uri?code=...&state=... (auto-approved, for --user)
  Token answers carry an unsigned id_token naming the user when the scope has "openid".
  POST /introspect   token=...  (RFC 7662; Dovecot introspection_mode = post)
  GET  /introspect?token=...   (introspection_mode = get)
  GET  /userinfo     Authorization: Bearer ...  (introspection_mode = auth)
       valid token   -> 200 {"active": true, "username": U, "email": U, "sub": U, "scope": S,
                             "client_id": C, "token_type": "Bearer", "exp": T, "iat": T0}
       otherwise     -> 200 {"active": false}
Test controls (POST, form-encoded; no auth, loopback only):
  /admin/seed        user=U[&refresh_token=R][&client_id=C]  -> {"refresh_token": R}
  /admin/mint        user=U[&ttl=S]  -> {"access_token": A, "expires_in": S} (skip the refresh step)
  /admin/expire      token=A   (access token becomes inactive now)
  /admin/revoke      token=R|A (refresh or access token; revoking a refresh token kills its access tokens)
  /admin/stats       -> counters per endpoint (how many refreshes mentord did, ...)
  /admin/expire-user user=U (every access token of U becomes inactive now)
  /admin/config      [ttl=S][&rotate=0|1][&down=0|1]  (lifetime of new tokens, rotation; with
                     down=1 /token answers 503 temporarily_unavailable, as during an outage)
  /admin/tokens      -> {"tokens": [every access and refresh token ever issued or seeded]}
Options: --port, --ttl (access-token lifetime, s), --rotate (new refresh token on every refresh,
         old one revoked, as Microsoft/Google may do), --user/--refresh-token/--client-id (seed),
         --cc-user (mailbox for client_credentials), --client-secret (required if given).
Logs one line per request to stderr, tokens shortened to 6 chars.
"""
import argparse, base64, hashlib, json, secrets, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

LOCK = threading.Lock()
ACCESS = {}    # token -> dict(user, exp, scope, client_id, rt)
REFRESH = {}   # token -> dict(user, client_id, scope)
DEVICE = {}    # device_code -> dict(client_id, scope, polls)
CODES = {}     # authorization code -> dict(client_id, redirect_uri, challenge, scope)
ISSUED = []    # every token handed out, for the tests' "no token in any log" check
STATS = {}
ARGS = None


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(user, scope):
    """An unsigned JWT naming the user (mentorctl only displays it)."""
    if "openid" not in (scope or "").split():
        return {}
    head = b64url(json.dumps({"alg": "none"}).encode())
    body = b64url(json.dumps({"email": user, "sub": user}).encode())
    return {"id_token": head + "." + body + "."}


def new_refresh(r):
    rt = "rt-" + secrets.token_urlsafe(24)
    REFRESH[rt] = r
    ISSUED.append(rt)
    return rt


def short(t):
    return (t[:6] + "...") if t else "-"


def new_access(user, client_id, scope, rt=None, ttl=None):
    ttl = ARGS.ttl if ttl is None else ttl
    tok = "at-" + secrets.token_urlsafe(24)
    ISSUED.append(tok)
    now = int(time.time())
    ACCESS[tok] = dict(user=user, client_id=client_id, scope=scope, rt=rt, iat=now, exp=now + ttl)
    return tok, ttl


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: Dovecot's http client reuses connections

    def log_message(self, fmt, *a):
        pass

    def _send(self, code, obj, note=""):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        sys.stderr.write("%s %s %s -> %d %s\n" % (time.strftime("%H:%M:%S"), self.command,
                         urlparse(self.path).path, code, note))
        sys.stderr.flush()

    def _form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _err(self, code, error, desc):
        self._send(code, {"error": error, "error_description": desc}, error)

    def _introspect(self, tok):
        with LOCK:
            STATS["introspect"] = STATS.get("introspect", 0) + 1
            a = ACCESS.get(tok)
            if not a or a["exp"] <= time.time():
                return self._send(200, {"active": False}, "token %s inactive" % short(tok))
            obj = {"active": True, "username": a["user"], "email": a["user"], "sub": a["user"],
                   "scope": a["scope"], "client_id": a["client_id"], "token_type": "Bearer",
                   "exp": a["exp"], "iat": a["iat"]}
        self._send(200, obj, "token %s active user=%s" % (short(tok), a["user"]))

    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == "/introspect":
            return self._introspect(q.get("token") or q.get("access_token", ""))
        if u.path == "/userinfo":
            h = self.headers.get("Authorization", "")
            return self._introspect(h[7:] if h.startswith("Bearer ") else "")
        if u.path == "/admin/stats":
            return self._send(200, STATS)
        if u.path == "/admin/tokens":
            return self._send(200, {"tokens": ISSUED})
        if u.path == "/authorize":
            return self._authorize(q)
        self._send(404, {"error": "not_found"})

    def do_POST(self):
        path = urlparse(self.path).path
        f = self._form()
        if path == "/introspect":
            return self._introspect(f.get("token", ""))
        if path == "/token":
            return self._token(f)
        if path == "/devicecode":
            dc = "dc-" + secrets.token_urlsafe(16)
            with LOCK:
                DEVICE[dc] = dict(client_id=f.get("client_id", ""), scope=f.get("scope", ""), polls=0)
            return self._send(200, {"device_code": dc, "user_code": "ABCD-EFGH",
                                    "verification_uri": "http://127.0.0.1:%d/device" % ARGS.port,
                                    "expires_in": 900, "interval": 1,
                                    "message": "stand-in: auto-approved after the first poll"})
        if path.startswith("/admin/"):
            return self._admin(path[7:], f)
        self._send(404, {"error": "not_found"})

    def _authorize(self, q):
        if q.get("response_type") != "code" or not q.get("redirect_uri", "").startswith("http://127.0.0.1:"):
            return self._err(400, "invalid_request", "response_type=code and a loopback redirect_uri")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return self._err(400, "invalid_request", "PKCE S256 required")
        code = "ac-" + secrets.token_urlsafe(16)
        with LOCK:
            CODES[code] = dict(client_id=q.get("client_id", ""), redirect_uri=q["redirect_uri"],
                               challenge=q["code_challenge"], scope=q.get("scope", ""))
        loc = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
        self.send_response(302)
        self.send_header("Location", loc)
        self.send_header("Content-Length", "0")
        self.end_headers()
        sys.stderr.write("%s GET /authorize -> 302 code %s\n" % (time.strftime("%H:%M:%S"), short(code)))

    def _token(self, f):
        gt = f.get("grant_type", "")
        if ARGS.down:
            with LOCK:
                STATS["down"] = STATS.get("down", 0) + 1
            return self._err(503, "temporarily_unavailable", "the stand-in is down (admin/config)")
        cid = f.get("client_id", "")
        if ARGS.client_secret and f.get("client_secret") != ARGS.client_secret \
                and not self.headers.get("Authorization", "").startswith("Basic "):
            return self._err(401, "invalid_client", "client authentication failed")
        with LOCK:
            STATS[gt] = STATS.get(gt, 0) + 1
            if gt == "refresh_token":
                rt = f.get("refresh_token", "")
                r = REFRESH.get(rt)
                if not r:
                    return self._err(400, "invalid_grant", "refresh token unknown, expired or revoked")
                if r["client_id"] and cid and r["client_id"] != cid:
                    return self._err(400, "invalid_grant", "refresh token was issued to another client")
                out_rt = rt
                if ARGS.rotate:
                    del REFRESH[rt]
                    out_rt = new_refresh(dict(r))
                scope = f.get("scope") or r["scope"]
                tok, ttl = new_access(r["user"], r["client_id"] or cid, scope, out_rt)
                res = {"access_token": tok, "token_type": "Bearer", "expires_in": ttl,
                       "scope": scope, "refresh_token": out_rt, **id_token(r["user"], scope)}
                note = "refresh %s -> %s%s" % (short(rt), short(tok), " (rotated)" if ARGS.rotate else "")
            elif gt == "client_credentials":
                if not ARGS.cc_user:
                    return self._err(400, "unauthorized_client", "client_credentials not enabled (--cc-user)")
                tok, ttl = new_access(ARGS.cc_user, cid, f.get("scope", ""))
                res = {"access_token": tok, "token_type": "Bearer", "expires_in": ttl}
                note = "client_credentials -> %s" % short(tok)
            elif gt == "urn:ietf:params:oauth:grant-type:device_code":
                d = DEVICE.get(f.get("device_code", ""))
                if not d:
                    return self._err(400, "expired_token", "device code unknown or expired")
                d["polls"] += 1
                if d["polls"] == 1:
                    return self._err(400, "authorization_pending", "user has not approved yet")
                del DEVICE[f["device_code"]]
                user = ARGS.user or ARGS.cc_user
                rt = new_refresh(dict(user=user, client_id=d["client_id"], scope=d["scope"]))
                tok, ttl = new_access(user, d["client_id"], d["scope"], rt)
                res = {"access_token": tok, "token_type": "Bearer", "expires_in": ttl,
                       "scope": d["scope"], "refresh_token": rt, **id_token(user, d["scope"])}
                note = "device_code -> %s" % short(tok)
            elif gt == "authorization_code":
                c = CODES.pop(f.get("code", ""), None)
                if not c or c["redirect_uri"] != f.get("redirect_uri") or (c["client_id"] and c["client_id"] != cid):
                    return self._err(400, "invalid_grant", "code unknown, used, or for another redirect/client")
                verifier = f.get("code_verifier", "")
                if b64url(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
                    return self._err(400, "invalid_grant", "PKCE verification failed")
                user = ARGS.user or ARGS.cc_user
                rt = new_refresh(dict(user=user, client_id=cid, scope=c["scope"]))
                tok, ttl = new_access(user, cid, c["scope"], rt)
                res = {"access_token": tok, "token_type": "Bearer", "expires_in": ttl,
                       "scope": c["scope"], "refresh_token": rt, **id_token(user, c["scope"])}
                note = "authorization_code -> %s" % short(tok)
            else:
                return self._err(400, "unsupported_grant_type", gt)
        self._send(200, res, note)

    def _admin(self, op, f):
        with LOCK:
            if op == "seed":
                rt = f.get("refresh_token") or "rt-" + secrets.token_urlsafe(24)
                REFRESH[rt] = dict(user=f["user"], client_id=f.get("client_id", ""), scope=f.get("scope", ""))
                ISSUED.append(rt)
                return self._send(200, {"refresh_token": rt}, "seed " + f["user"])
            if op == "expire-user":
                n = 0
                for a in ACCESS.values():
                    if a["user"] == f.get("user") and a["exp"] > 0:
                        a["exp"] = 0
                        n += 1
                return self._send(200, {"expired": n}, "expire-user %s (%d)" % (f.get("user"), n))
            if op == "config":
                if "ttl" in f:
                    ARGS.ttl = int(f["ttl"])
                if "rotate" in f:
                    ARGS.rotate = f["rotate"] == "1"
                if "down" in f:
                    ARGS.down = f["down"] == "1"
                return self._send(200, {"ttl": ARGS.ttl, "rotate": ARGS.rotate, "down": ARGS.down},
                                  "config")
            if op == "mint":
                tok, ttl = new_access(f["user"], f.get("client_id", ""), f.get("scope", ""),
                                      ttl=int(f.get("ttl", ARGS.ttl)))
                return self._send(200, {"access_token": tok, "expires_in": ttl}, "mint " + short(tok))
            if op == "expire":
                a = ACCESS.get(f.get("token", ""))
                if a:
                    a["exp"] = 0
                return self._send(200, {"ok": bool(a)}, "expire " + short(f.get("token")))
            if op == "revoke":
                t = f.get("token", "")
                found = ACCESS.pop(t, None) is not None
                if REFRESH.pop(t, None) is not None:
                    found = True
                    for k in [k for k, v in ACCESS.items() if v["rt"] == t]:
                        del ACCESS[k]
                return self._send(200, {"ok": found}, "revoke " + short(t))
            if op == "stats":
                return self._send(200, STATS)
        self._send(404, {"error": "not_found"})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--ttl", type=int, default=3600)
    p.add_argument("--rotate", action="store_true")
    p.add_argument("--user")
    p.add_argument("--refresh-token")
    p.add_argument("--client-id", default="")
    p.add_argument("--client-secret", default="")
    p.add_argument("--cc-user", default="")
    p.add_argument("--pidfile")
    ARGS = p.parse_args()
    ARGS.down = False
    if ARGS.user and ARGS.refresh_token:
        REFRESH[ARGS.refresh_token] = dict(user=ARGS.user, client_id=ARGS.client_id, scope="")
        ISSUED.append(ARGS.refresh_token)
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), H)
    if ARGS.pidfile:
        with open(ARGS.pidfile, "w") as fh:
            fh.write("%d\n" % __import__("os").getpid())
    sys.stderr.write("oauth stand-in on 127.0.0.1:%d ttl=%ds rotate=%s\n" % (ARGS.port, ARGS.ttl, ARGS.rotate))
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
