#!/usr/bin/env python3
"""What the daemon writes to its reader for N bench joins (a parse, then a reading
request with a stranger's context: programme_context for a first mail), as one
byte stream: `mentord --reader < stream > /dev/null` then does a pass's reading
work alone, so callgrind can count it (issue 17).  Native byte order, as
daemon/reader_int.h writes it.

    readerfeed.py N OUT
"""
import struct
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import bench  # noqa: E402  (join_mail: the very mail the ingest bench delivers)

OWN = b"mentors@example.test"
MANAGER = b"boss@example.test"  # bench.py's config
AHEAD = 3  # parses ahead of the readings (reader.h's READER_AHEAD is now six; the reading work is the same)
MAX_SIZE = 10 * 1024 * 1024  # [limits] max_message_size's default


def request(size, now):
    # reader_put_request: size, now, the 11 context ints (known=1, the rest 0),
    # max_message_size, plus_addressing, the community address, the bench's manager.
    b = struct.pack("=qq", size, now)
    b += struct.pack("=11q", 1, *([0] * 10))
    b += struct.pack("=qq", MAX_SIZE, 0)
    b += struct.pack("=I", len(OWN)) + OWN + struct.pack("=q", 1)
    b += struct.pack("=I", len(MANAGER)) + MANAGER
    return b


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    now = int(time.time())
    def parse(f, i):
        raw = bench.join_mail(i, now, 1).encode()
        f.write(b"P" + struct.pack("=QQI", len(raw), len(raw), len(OWN)) + OWN + raw)
        return len(raw)

    # As the pass asks (daemon/reader.c): parses go up to AHEAD mails ahead
    # of the readings; 'R' names the mail by its number (its parse's, from 1).
    with open(out, "wb") as f:
        sizes = {}
        for i in range(1, min(n, AHEAD) + 1):
            sizes[i] = parse(f, i)
        for i in range(1, n + 1):
            req = request(sizes.pop(i), now)
            f.write(b"R" + struct.pack("=IQ", i, len(req)) + req)
            if i + AHEAD <= n:
                sizes[i + AHEAD] = parse(f, i + AHEAD)


if __name__ == "__main__":
    main()
