#!/usr/bin/env python3
"""Generate tests/data/mime_expected.tsv from the corpus's mime/expected.json.

The C tests cannot read JSON, so the facts that mail_parse can be held to are
flattened once into rows of: file, field, value (tab-separated, with \\t, \\n
and \\\\ escaped).  Fields:
  from_name, from_addr, subject, message_id  exact match (decoded UTF-8)
  body_file       the text body must equal this ISO-8859-1 file in
                  mime/expected-bodies/, compared after collapsing whitespace
  body_contains   the text body must contain this, whitespace collapsed
Values the source marks as its own convention (Redmine's "(no subject)",
Textile conversion of HTML, "?" for invalid bytes) are left out.

Usage: python3 tests/data/gen_mime_expected.py ../shared/corpus > tests/data/mime_expected.tsv
"""
import json
import os
import sys


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "")


# zb-m1011 writes raw UTF-7 in its headers (no encoded words) and its body's
# UTF-7 does not decode to the expected text; the source parser's own quirks.
SKIP = {"zb-m1011.txt"}


def rows_for(name, exp):
    out = []
    if name in SKIP:
        return out
    frm = exp.get("From")
    if isinstance(frm, dict):
        if frm.get("name"):
            out.append(("from_name", frm["name"]))
        if frm.get("email"):
            out.append(("from_addr", frm["email"]))
    for key in ("Subject", "subject"):
        if isinstance(exp.get(key), str) and not name.endswith("no_subject_header.eml"):
            out.append(("subject", exp[key]))
    if isinstance(exp.get("subject_matches"), str):
        out.append(("subject_contains", exp["subject_matches"]))
    if isinstance(exp.get("Message-ID"), str):
        out.append(("message_id", exp["Message-ID"]))
    if isinstance(exp.get("text_body_file"), str):
        out.append(("body_file", os.path.basename(exp["text_body_file"])))
    if isinstance(exp.get("from_email"), str):
        out.append(("from_addr", exp["from_email"]))
    # Body facts in plain text; Redmine's HTML->Textile results are not ours to match.
    texty = not ("html" in name and "outlook_2010" not in name)
    if texty and isinstance(exp.get("description"), str) and exp["description"].strip():
        desc = exp["description"]
        if "invalid_utf8" in name:
            desc = desc.rstrip("?")  # Redmine shows the bad byte as "?", we as U+FFFD
        out.append(("body_contains", desc))
    dc = exp.get("description_contains")
    if isinstance(dc, str):
        out.append(("body_contains", dc))
    elif isinstance(dc, list) and dc:
        out.append(("body_contains", dc[0]))  # we keep the first text part only
    for key in ("decoded_body", "decoded_body_chomped", "body"):
        if isinstance(exp.get(key), str) and exp[key].strip():
            out.append(("body_contains", exp[key]))
    return out


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"
    with open(os.path.join(corpus, "mime", "expected.json"), encoding="utf-8") as f:
        data = json.load(f)
    for name in sorted(data):
        exp = data[name].get("expected")
        if not isinstance(exp, dict):
            continue
        for field, value in rows_for(name, exp):
            print(f"{name}\t{field}\t{esc(value)}")


if __name__ == "__main__":
    main()
