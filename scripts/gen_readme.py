"""Build lot_margin_control/README.rst from the OCA fragments in lot_margin_control/readme/.

OCA's oca-gen-addon-readme (maintainer-tools) is not on PyPI; the fragments here use
the small part of Markdown that maps one to one onto reStructuredText (paragraphs,
"- " bullets, *emphasis*, **strong**, `code`), so this converts them directly.

    python scripts/gen_readme.py            # write README.rst
    python scripts/gen_readme.py --check    # exit 1 when README.rst is out of date
"""

import re
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "lot_margin_control"
SECTIONS = [("CONFIGURE", "Configuration"), ("USAGE", "Usage")]
HEADER = """==================
Lot Margin Control
==================

..
   Built by scripts/gen_readme.py from the fragments in readme/ (DESCRIPTION,
   CONFIGURE, USAGE, CONTRIBUTORS). Edit those, then run the script.

|badge1|

.. |badge1| image:: https://img.shields.io/badge/licence-LGPL--3-blue.png
    :target: http://www.gnu.org/licenses/lgpl-3.0-standalone.html
    :alt: License: LGPL-3

"""


def to_rst(markdown):
    """Inline Markdown to reStructuredText: `code` becomes ``code``; emphasis is the same."""
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", markdown).strip() + "\n"


def title(text, underline):
    return f"{text}\n{underline * len(text)}\n\n"


def build():
    fragment = {path.stem: path.read_text() for path in (ADDON / "readme").glob("*.md")}
    parts = [HEADER, to_rst(fragment["DESCRIPTION"]), "\n**Table of contents**\n\n.. contents::\n   :local:\n\n"]
    for key, heading in SECTIONS:
        parts += [title(heading, "="), to_rst(fragment[key]), "\n"]
    parts += [title("Credits", "="), title("Contributors", "~"), to_rst(fragment["CONTRIBUTORS"])]
    return "".join(parts)


def main():
    target = ADDON / "README.rst"
    text = build()
    if "--check" in sys.argv:
        if target.read_text() != text:
            sys.exit("lot_margin_control/README.rst is out of date: run python scripts/gen_readme.py")
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
