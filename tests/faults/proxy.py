"""proxy: a small fault-injecting TCP proxy for mentord's fault tests.

Sits between mentord and one of the test-bed's servers (127.0.0.1 only) and
relays bytes both ways, unless told to misbehave.  It runs its own asyncio
loop in a background thread so a test can change the faults while mentord is
connected; every setting is read afresh for each connection or chunk.

    p = Proxy(target_port).start()      # p.port is where mentord connects
    p.refuse = True                     # accept and close at once
    p.delay = 3.0                       # hold each server->client chunk 3 s
    p.cut_after(b"FETCH", 200, times=2) # cut 200 bytes into the reply to FETCH
    p.hold_reply(b"UID MOVE", 2.0)      # hold the answer to each UID MOVE 2 s
    p.smtp_reply("RCPT", "452 4.5.3 Try later", match="user1@")  # answer in the server's place
    p.smtp_cut_data(500)                # cut 500 bytes into the DATA content
    p.smtp_cut_after_eod()              # server accepted, the 250 never reaches mentord
    p.stop()

SMTP faults assume a plain-text session (security = none on loopback): with
TLS the proxy only relays bytes.  A refused command is never forwarded, so the
real server's state stays consistent and nothing is delivered behind our back.
Every fault has a budget (times); p.injected counts the faults that fired.

Run standalone for manual experiments:  python3 proxy.py LISTEN_PORT TARGET_PORT [--delay S]
"""

import asyncio
import sys
import threading

HOST = "127.0.0.1"


class Rule:
    """One fault with a budget: fires while times > 0 (None: forever)."""

    def __init__(self, times):
        self.times = times

    def take(self):
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


class Proxy:
    def __init__(self, target_port, listen_port=0, target_host=HOST):
        self.target = (target_host, target_port)
        self.listen_port = listen_port
        self.port = None
        self.refuse = False
        self.delay = 0.0
        self.connections = 0
        self.injected = 0
        self.log = []  # (fault, detail) in the order they fired
        self._cuts = []  # [trigger bytes, K, Rule]
        self._holds = []  # [trigger bytes, seconds, Rule]
        self.holding = 0  # replies being held right now
        self._smtp_rules = []  # [VERB, reply, match, Rule]
        self._data_cuts = []  # [K, Rule]
        self._eod_cuts = []  # [Rule]
        self._lock = threading.Lock()
        self._loop = None
        self._server = None
        self._thread = None
        self._ready = threading.Event()

    # ---- configuration (thread-safe enough: each is one list append/replace) ----

    def cut_after(self, trigger, nbytes, times=1):
        """Cut the connection nbytes into the server's answer to a client chunk containing trigger."""
        self._cuts.append([trigger, nbytes, Rule(times)])
        return self

    def hold_reply(self, trigger, seconds, times=None):
        """Hold the server's next chunk after a client chunk containing trigger for seconds
        (the command has reached the server: only its answer is late)."""
        self._holds.append([trigger, seconds, Rule(times)])
        return self

    def smtp_reply(self, verb, reply, match=None, times=1):
        """Answer the SMTP command VERB (MAIL, RCPT, DATA) with reply instead of forwarding it.

        match: a substring of the command line (MAIL/RCPT) or of any RCPT of the
        transaction (DATA) that must be present.  A 421 reply closes the connection.
        """
        self._smtp_rules.append([verb.upper(), reply, match, Rule(times)])
        return self

    def smtp_cut_data(self, nbytes, times=1):
        """Close both sides after nbytes of message content were forwarded."""
        self._data_cuts.append([nbytes, Rule(times)])
        return self

    def smtp_cut_after_eod(self, times=1):
        """Forward the whole message and the final dot, then cut before the server's reply."""
        self._eod_cuts.append(Rule(times))
        return self

    def clear(self):
        """Back to a plain relay."""
        self.refuse = False
        self.delay = 0.0
        self._cuts, self._smtp_rules, self._data_cuts, self._eod_cuts = [], [], [], []
        self._holds = []

    def _fired(self, fault, detail=""):
        with self._lock:
            self.injected += 1
            self.log.append((fault, detail))

    # ---- lifecycle ----

    def start(self):
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self.port is None:
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self):
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._client, HOST, self.listen_port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # ---- one connection ----

    async def _client(self, creader, cwriter):
        self.connections += 1
        if self.refuse:
            self._fired("refuse")
            cwriter.close()
            return
        try:
            sreader, swriter = await asyncio.open_connection(*self.target)
        except OSError as e:
            self._fired("target down", str(e))
            cwriter.close()
            return
        conn = _Conn(self, cwriter, swriter)
        up = asyncio.ensure_future(conn.client_to_server(creader))
        down = asyncio.ensure_future(conn.server_to_client(sreader))
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        conn.close()
        for t in (up, down):
            t.cancel()


class _Conn:
    """The state of one relayed connection (SMTP command/data tracking included)."""

    def __init__(self, proxy, cwriter, swriter):
        self.p = proxy
        self.cw = cwriter
        self.sw = swriter
        self.closed = False
        self.pending_cut = None  # bytes of server reply still allowed before a cut
        self.pending_hold = 0.0  # seconds to hold the server's next chunk
        self.line = b""  # partial SMTP command line from the client
        self.in_data = False
        self.data_seen = 0
        self.data_cut = None
        self.tail = b""
        self.rcpts = []
        self.cut_on_reply = False
        self.expect_354 = False

    def close(self):
        if self.closed:
            return
        self.closed = True
        for w in (self.cw, self.sw):
            try:
                w.close()
            except (OSError, RuntimeError):
                pass

    async def client_to_server(self, reader):
        while not self.closed:
            data = await reader.read(65536)
            if not data:
                return
            for trigger, nbytes, rule in self.p._cuts:
                if trigger in data and self.pending_cut is None and rule.take():
                    self.pending_cut = nbytes
                    self.p._fired("cut", "%d bytes after %r" % (nbytes, trigger))
            for trigger, seconds, rule in self.p._holds:
                if trigger in data and rule.take():
                    self.pending_hold = seconds
                    self.p._fired("hold", "%.1f s after %r" % (seconds, trigger))
            if self.p._smtp_rules or self.p._data_cuts or self.p._eod_cuts:
                if not await self._smtp_client(data):
                    return
            else:
                self.sw.write(data)
                await self.sw.drain()

    async def server_to_client(self, reader):
        while not self.closed:
            data = await reader.read(65536)
            if not data:
                return
            if self.p.delay > 0:
                await asyncio.sleep(self.p.delay)
            if self.pending_hold > 0:
                hold, self.pending_hold = self.pending_hold, 0.0
                self.p.holding += 1
                try:
                    await asyncio.sleep(hold)
                finally:
                    self.p.holding -= 1
            if self.cut_on_reply:
                self.p._fired("cut after end of data", data[:40].decode("ascii", "replace"))
                return
            if self.expect_354 and data.startswith(b"354"):
                self.in_data = True
            self.expect_354 = False
            if self.pending_cut is not None:
                if len(data) >= self.pending_cut:
                    self.cw.write(data[:self.pending_cut])
                    await self.cw.drain()
                    return
                self.pending_cut -= len(data)
            self.cw.write(data)
            await self.cw.drain()

    # ---- SMTP ----

    async def _smtp_client(self, data):
        """Relay client bytes, answering or cutting per the SMTP rules; False: closed."""
        while data:
            if self.in_data:
                data = await self._smtp_data(data)
                if data is None:
                    return False
                continue
            nl = data.find(b"\n")
            if nl < 0:
                self.line += data
                return True
            line, data = self.line + data[:nl + 1], data[nl + 1:]
            self.line = b""
            if not await self._smtp_command(line):
                return False
        return True

    async def _smtp_command(self, line):
        text = line.decode("ascii", "replace").strip()
        verb = text.split(" ", 1)[0].split(":", 1)[0].upper()
        if verb == "MAIL" or verb == "RSET":
            self.rcpts = []
        if verb == "RCPT":
            self.rcpts.append(text)
        for rverb, reply, match, rule in self.p._smtp_rules:
            if rverb != verb:
                continue
            scope = " ".join(self.rcpts) if verb == "DATA" else text
            if match is not None and match not in scope:
                continue
            if not rule.take():
                continue
            self.p._fired("smtp %s" % verb, reply)
            if verb == "RCPT":
                self.rcpts.pop()
            self.cw.write(reply.encode("ascii") + b"\r\n")
            await self.cw.drain()
            if reply.startswith("421"):
                return False
            return True
        if verb == "DATA":
            self.expect_354 = True
            self.data_seen = 0
            self.tail = b""
            self.data_cut = None
            for nbytes, rule in self.p._data_cuts:
                if rule.take():
                    self.data_cut = nbytes
                    break
        self.sw.write(line)
        await self.sw.drain()
        return True

    async def _smtp_data(self, data):
        """Forward message content; returns what follows the final dot, None when cut."""
        buf = self.tail + data
        end = buf.find(b"\r\n.\r\n")
        if end >= 0:
            used = end + 5 - len(self.tail)
            chunk, rest = data[:used], data[used:]
        else:
            chunk, rest = data, b""
        if self.data_cut is not None and self.data_seen + len(chunk) >= self.data_cut:
            part = chunk[:max(0, self.data_cut - self.data_seen)]
            self.sw.write(part)
            await self.sw.drain()
            self.p._fired("cut mid-DATA", "%d bytes" % self.data_cut)
            return None
        self.data_seen += len(chunk)
        self.sw.write(chunk)
        await self.sw.drain()
        if end >= 0:
            self.in_data = False
            self.tail = b""
            for rule in self.p._eod_cuts:
                if rule.take():
                    self.cut_on_reply = True
                    break
        else:
            self.tail = buf[-4:]
        return rest


def main(argv):
    if len(argv) < 3:
        print("usage: proxy.py LISTEN_PORT TARGET_PORT [--delay S]", file=sys.stderr)
        return 2
    p = Proxy(int(argv[2]), int(argv[1]))
    if "--delay" in argv:
        p.delay = float(argv[argv.index("--delay") + 1])
    p.start()
    print("proxy 127.0.0.1:%d -> 127.0.0.1:%s" % (p.port, argv[2]), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
