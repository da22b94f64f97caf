"""Sample grids side by side in one figure, each under its own title: for comparing runs whose grids
were drawn by different tools (``gankit sample``, ``bench/seed_reference.py --grid``).

    python bench/side_by_side.py OUT.png "title one=grid1.png" "title two=grid2.png" ...

A title may hold "\\n" for a second line. The figure is ``gankit.sampling.grid.save_panels``'.
"""
from __future__ import annotations

import argparse
import sys

from PIL import Image

from gankit.sampling.grid import save_panels


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="the figure to write (PNG)")
    p.add_argument("panels", nargs="+", help='"TITLE=GRID.png", left to right')
    a = p.parse_args(argv)
    panels = []
    for item in a.panels:
        title, sep, path = item.rpartition("=")
        if not sep or not title:
            p.error(f"panel {item!r}: expected TITLE=GRID.png")
        try:
            panels.append((title.replace("\\n", "\n"), Image.open(path)))
        except OSError as e:
            p.error(f"panel {item!r}: cannot read {path} ({e})")
    save_panels(panels, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
