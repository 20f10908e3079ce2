"""Screenshots of a `dco view` site in headless Chromium (the README's figures).

    python scripts/view_screenshots.py SITE_DIR OUT.png [--page t/NAME.html]
        [--select N] [--width 1400] [--height 1100]

``--select N`` opens and selects state N of a theorem page (its goals in the
side panel) before the shot.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.perf.browser import Browser


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--page", default="index.html")
    parser.add_argument("--select", type=int, help="a state to open and select")
    parser.add_argument("--scroll", help="CSS selector of an element to scroll to the top")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1100)
    args = parser.parse_args()
    url = (args.site / args.page).resolve().as_uri() + (
        f"#n{args.select}" if args.select is not None else ""
    )
    with Browser(width=args.width, height=args.height) as b:
        b.get(url)
        b.wait_for("document.body.dataset.treeReady || document.body.dataset.tableReady")
        if args.scroll:
            b.run(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'start'});",
                args.scroll,
            )
        b.screenshot(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
