"""The calculator's place on the Nomogram page: the model document embedded for the JavaScript.

:func:`html` returns the block a chapter cell displays: a container that ``_static/dmnpc-calculator.js``
(loaded on every page of the book, with ``_static/dmnpc-calculator.css``) fills with the form,
and the model document of :func:`dmnpc.paper.calculator.model_document` inline, as
``<script type="application/json" id="dmnpc-model">``. Inline, because a page opened from disk
(``file://``) may not fetch a file beside it; the page offers the very same text for download.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["html"]


def _inline(doc: dict[str, Any]) -> str:
    """The document as JSON safe inside a ``<script>`` element (no ``<``, ``>`` or ``&`` left raw)."""
    text = json.dumps(doc, indent=1, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def html(doc: dict[str, Any]) -> str:
    """The calculator block for ``IPython.display.HTML``."""
    return ('<div class="dmnpc-calc" id="dmnpc-calculator" role="group" aria-label="Nomogram calculator">\n'
            f'<script type="application/json" id="dmnpc-model">{_inline(doc)}</script>\n'
            "<noscript><p>The calculator needs JavaScript, which is off in this browser; "
            "<code>python -m dmnpc predict</code> gives the same prediction.</p></noscript>\n</div>")
