"""Card text through Anki's HTML fields and back: what a learner wrote is what comes back."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from prepkit.export.foreign import html_to_text, text_to_html

# A line as a card holds it: indentation, then text without edge spaces or control characters.
_WORD = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs"), blacklist_characters="\xa0"),
    min_size=1,
    max_size=12,
)
_LINE = st.builds(
    lambda indent, words, gaps: (
        " " * indent + "".join(w + " " * g for w, g in zip(words, gaps, strict=False)).rstrip()
    ),
    st.integers(0, 8),
    st.lists(_WORD, min_size=1, max_size=6),
    st.lists(st.integers(1, 3), min_size=6, max_size=6),
)
_TEXT = (
    st.lists(st.one_of(_LINE, st.just("")), min_size=1, max_size=8)
    .map(lambda lines: re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n"))
    .filter(bool)
)


@given(_TEXT)
def test_text_survives_an_anki_field(text: str) -> None:
    """Code keeps its indentation and runs of spaces; <, > and & stay characters."""
    assert html_to_text(text_to_html(text)) == text


def test_anki_markup_becomes_the_text_anki_shows() -> None:
    field = (
        "<div>Which <b>collective</b>&nbsp;&amp; why?</div><div><img src='ring.png'></div>"
        "<script>alert(1)</script><style>b {}</style><ul><li>ring</li><li>tree</li></ul>"
    )
    assert html_to_text(field) == "Which collective & why?\n[image: ring.png]\nring\ntree"
    assert html_to_text("a<br>b<br><br>c") == "a\nb\n\nc"
    assert html_to_text("plain   text\nwrapped") == "plain text wrapped"  # HTML white space
    assert html_to_text("<pre>  x = 1\n    y</pre>") == "  x = 1\n    y"
