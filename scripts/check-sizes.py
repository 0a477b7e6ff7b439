#!/usr/bin/env python3
"""Checks the size limits the project holds itself to (issue "One catalogue of techniques…"):

- no Rust function in src/ over 80 lines (signature to closing brace, as rustfmt lays it out);
- no page panel factory (`createPanel` in www/js/panels/*.js) over 120 lines.

Test code (`#[cfg(test)]` modules, from that line to the end of the file as rustfmt keeps them last) is not
counted. Prints every offender with its length and exits 1 if there is any; `--list N` prints the N longest.

Usage: scripts/check-sizes.py [--list N]
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUST_LIMIT = 80
PANEL_LIMIT = 120

RUST_FN = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"[^\"]*\"\s+)?fn\s+(\w+)")
JS_PANEL = re.compile(r"^(\s*)export\s+(async\s+)?function\s+(createPanel)\b")


def blocks(path, pattern, name_group):
    """(name, first line, length) of every item matching `pattern` whose body ends at the first line that
    closes it at the same indentation (`}` alone, as rustfmt and prettier write it)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        if path.suffix == ".rs" and line.strip().startswith("#[cfg(test)]"):
            break
        m = pattern.match(line)
        if not m:
            continue
        indent = m.group(1)
        # A declaration without a body (trait method) ends with `;` before any `{`.
        j = i
        while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
            j += 1
        if j >= len(lines) or "{" not in lines[j]:
            continue
        if lines[j].rstrip().endswith("}") and lines[j].count("{") == lines[j].count("}"):
            out.append((m.group(name_group), i + 1, j - i + 1))
            continue
        for k in range(j + 1, len(lines)):
            if lines[k].startswith(indent + "}") and not lines[k].startswith(indent + "} else"):
                out.append((m.group(name_group), i + 1, k - i + 1))
                break
    return out


def main():
    listing = int(sys.argv[sys.argv.index("--list") + 1]) if "--list" in sys.argv else 0
    found = []
    for path in sorted((ROOT / "src").rglob("*.rs")):
        for name, line, length in blocks(path, RUST_FN, 8):
            found.append((length, RUST_LIMIT, f"{path.relative_to(ROOT)}:{line} fn {name}"))
    for path in sorted((ROOT / "www/js/panels").glob("*.js")):
        for name, line, length in blocks(path, JS_PANEL, 3):
            found.append((length, PANEL_LIMIT, f"{path.relative_to(ROOT)}:{line} {name}"))
    found.sort(reverse=True)
    for length, limit, where in found[:listing]:
        print(f"{length:5} {where}")
    offenders = [(length, limit, where) for length, limit, where in found if length > limit]
    for length, limit, where in offenders:
        print(f"too long: {where} is {length} lines (limit {limit})", file=sys.stderr)
    if offenders:
        sys.exit(1)
    print(f"sizes: {len(found)} functions and panel factories within their limits")


if __name__ == "__main__":
    main()
