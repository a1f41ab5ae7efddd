#!/usr/bin/env python3
"""Render `tmux capture-pane -e -p` output (ANSI SGR colours) as an SVG."""
import html
import re
import sys

BASE = ["#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5"]
BRIGHT = ["#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]
FG, BG = "#d4d4d4", "#1e1e1e"


def xterm256(n):
    if n < 8:
        return BASE[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (v, v, v)


def apply_sgr(params, state):
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            state.update(fg=FG, bg=None, bold=False, rev=False)
        elif c == 1:
            state["bold"] = True
        elif c == 22:
            state["bold"] = False
        elif c == 7:
            state["rev"] = True
        elif c == 27:
            state["rev"] = False
        elif 30 <= c <= 37:
            state["fg"] = BASE[c - 30]
        elif 90 <= c <= 97:
            state["fg"] = BRIGHT[c - 90]
        elif 40 <= c <= 47:
            state["bg"] = BASE[c - 40]
        elif 100 <= c <= 107:
            state["bg"] = BRIGHT[c - 100]
        elif c == 39:
            state["fg"] = FG
        elif c == 49:
            state["bg"] = None
        elif c in (38, 48) and i + 1 < len(codes):
            key = "fg" if c == 38 else "bg"
            if codes[i + 1] == 5 and i + 2 < len(codes):
                state[key] = xterm256(codes[i + 2])
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                state[key] = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
                i += 4
        i += 1


def main():
    lines = sys.stdin.read().rstrip("\n").split("\n")
    cw, ch = 8.4, 17
    width = max(160, max(len(re.sub(r"\x1b\[[0-9;]*m", "", l)) for l in lines))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * cw:.0f}" height="{len(lines) * ch + 8}" '
        f'font-family="DejaVu Sans Mono, Menlo, monospace" font-size="14">',
        f'<rect width="100%" height="100%" fill="{BG}"/>',
    ]
    state = dict(fg=FG, bg=None, bold=False, rev=False)
    for row, line in enumerate(lines):
        col = 0
        y = row * ch + 4
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
            if m:
                apply_sgr(m.group(1), state)
                continue
            if not part:
                continue
            fg, bg = state["fg"], state["bg"]
            if state["rev"]:
                fg, bg = (bg or BG), fg
            if bg:
                out.append(f'<rect x="{col * cw:.1f}" y="{y}" width="{len(part) * cw:.1f}" height="{ch}" fill="{bg}"/>')
            weight = ' font-weight="bold"' if state["bold"] else ""
            out.append(
                f'<text x="{col * cw:.1f}" y="{y + ch - 4}" fill="{fg}"{weight} xml:space="preserve">{html.escape(part)}</text>'
            )
            col += len(part)
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
