#!/usr/bin/env python3
"""Print a block of README.md that the deployment tests follow literally.

    readme_steps.py NAME

README.md marks each block with an HTML comment `<!-- steps: NAME -->` on the
line before it; the block is the indented code (or fenced code) that follows.
Prints it unindented, as the administrator would type or write it.  Exit 1
when there is no such block, so a README that loses a step fails the test.
"""
import os
import re
import sys

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def block(name):
    lines = open(README, encoding="utf-8").read().split("\n")
    marker = "<!-- steps: %s -->" % name
    for i, line in enumerate(lines):
        if line.strip() != marker:
            continue
        out, j = [], i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        indent = re.match(r"^\s*", lines[j]).group(0) if j < len(lines) else ""
        if not indent:
            return None
        while j < len(lines) and (lines[j].startswith(indent) or not lines[j].strip()):
            out.append(lines[j][len(indent):])
            j += 1
        while out and not out[-1].strip():
            out.pop()
        return "\n".join(out) + "\n"
    return None


if __name__ == "__main__":
    text = block(sys.argv[1])
    if text is None:
        sys.stderr.write("README.md has no block marked '<!-- steps: %s -->'\n" % sys.argv[1])
        sys.exit(1)
    sys.stdout.write(text)
