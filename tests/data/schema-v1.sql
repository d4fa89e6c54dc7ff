-- A mentord database at schema version 1 (as released first), with data,
-- to check that migrations upgrade old databases in place.
CREATE TABLE members ( id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT, role TEXT NOT NULL CHECK (role IN ('newcomer', 'mentor', 'manager')), state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'paused', 'left')), profile TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE mailboxes ( name TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL DEFAULT 0, last_uid INTEGER NOT NULL DEFAULT 0, updated INTEGER);
CREATE TABLE messages ( id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL, message_id TEXT, hash TEXT, sender TEXT, outcome TEXT NOT NULL, detail TEXT, attempts INTEGER NOT NULL DEFAULT 0, received INTEGER, processed INTEGER, UNIQUE (mailbox, uidvalidity, uid));
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_hash ON messages (hash);
CREATE TABLE outbox ( id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, sender TEXT, message_id TEXT UNIQUE, headers TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')), attempts INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL, next_attempt INTEGER NOT NULL, last_error TEXT, reply TEXT, sent_at INTEGER, failed_at INTEGER);
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE TABLE events ( id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, member TEXT, message_id TEXT, detail TEXT);
CREATE INDEX events_kind ON events (kind);
INSERT INTO members VALUES (1,'Ann@Example.org','Ann','newcomer','active','skills: rust',1700000000,1700000000);
INSERT INTO members VALUES (2,'bob@example.org','Bob','mentor','active',NULL,1700000100,1700000100);
INSERT INTO mailboxes VALUES ('INBOX',42,7,1700000200);
INSERT INTO messages (mailbox,uidvalidity,uid,message_id,hash,sender,outcome,detail,attempts,received,processed) VALUES ('INBOX',42,7,'m7@client.test','abc','ann@example.org','answered','recorded as newcomer',0,1700000200,1700000200);
INSERT INTO outbox (recipient,sender,message_id,headers,body,status,attempts,created,next_attempt) VALUES ('ann@example.org','mentors@example.org','r1@example.org','Subject: x
','hi
','queued',0,1700000200,1700000200);
INSERT INTO events (at,kind,member,message_id,detail) VALUES (1700000200,'newcomer','ann@example.org','m7@client.test',NULL);
PRAGMA user_version = 1;
