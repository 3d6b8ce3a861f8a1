"""The PDF accelerator: optional, behind ``WeasyPrintPdfRenderer``, same PDFs as stock WeasyPrint.

Stock WeasyPrint is pure Python and a render's time is interpreter overhead. The accelerator
has three parts:

- ``speedups.py``: patches of WeasyPrint 70.x (and pydyf 0.13.x) internals, installed once per
  worker process by ``PdfEngine(accelerated=True)``; nothing happens at import. The bench
  invoice took ~56 -> ~47.5 ms of CPU per render with them, when they were written.
- ``compile.py`` (``make pdf-modules``): the hottest modules of WeasyPrint and its helpers, and
  ``speedups.py``, compiled unchanged with Cython beside their sources (``modules.py`` lists
  them, with what each saves): 213 M -> 187 M instructions per invoice, speedups 11 M more.
- ``qr.py``: segno's QR symbol (error level M, mask 0) from per-version tables, ~0.6 ms per
  DGI URL instead of ~1.7 ms; the tests compare it with segno module for module.

When it stands aside: ``ISTMO_PDF_ACCELERATOR=off``; an installed WeasyPrint or pydyf release
other than those above (``releases.py``); a compiled module out of date with its source. One
warning says which. Renders then take the stock path: no patch installed, segno's
own encoder, and workers that import WeasyPrint from its ``.py`` files (they import it
themselves, ~1 s per worker start instead of ~0.3 s, as the pool's forkserver no longer
preloads it). Without a C compiler ``make pdf-modules`` says so in one line and compiles
nothing; the patches still apply, in pure Python.

The patches (``speedups.py``), on WeasyPrint 70.x. All but the compression level are pure
functions of their inputs: with them the PDFs draw exactly what WeasyPrint draws (tested page
by page); the level changes the deflated bytes, not the content.

- Image XObjects: a PNG is decoded with Pillow and re-encoded on every ``write_pdf`` although
  the image object is kept in the engine's image cache; the encoded stream is kept on it.
- Font subsets: HarfBuzz subsets each font on every render; the subset of a (font, glyph set)
  of a system font is kept in a small LRU (never while a tenant ``@font-face`` is loaded).
- Computed styles: ``ComputedStyle.__missing__`` (~4,500 calls an invoice) returns the
  parent's or the initial value directly when no stylesheet sets the property; new styles
  start with the initial values nothing of theirs can change.
- Used lengths: ``resolve_percentages`` inlined for ``auto``, pixels and percentages.
- Font descriptions: one Pango description per distinct font, reused.
- Struts: the line height and baseline of a style kept on the style.
- Pango contexts: one per (font map, direction, language), shared by layouts.
- Line layouts: a line ending at a preserved newline is not laid out again alone, and a
  line's layout is kept for drawing instead of being rebuilt.
- Text drawing: the glyph array of a run read in one go, a glyph's operators reused.
- PDF writing: each object serialised once per write, streams deflated at level 6 instead of
  9, the compressed form of large streams (font subsets) kept by content.
- HTML parsing: tinyhtml5's ``chars_until`` regex cache, keyed as intended.

Upstream (ready to file; each is a bug fix, not a speed-up that needs our caches):

1. tinyhtml5 2.x, ``inputstream.py``, ``HTMLUnicodeInputStream.chars_until``: on a miss,
   ``characters = characters_until_regex[(characters, opposite)] = regex`` assigns left to right,
   so ``characters`` is rebound to the compiled pattern before the key is built: the entry is
   stored under ``(pattern, opposite)`` and the lookup, by ``(characters, opposite)``, never
   finds it. Every call (~180 per invoice here) builds the pattern string again and goes
   through ``re.compile`` (whose own cache spares the compile itself). Fix:
   ``characters_until_regex[(characters, opposite)] = regex`` first, then ``characters = regex``.
2. pydyf 0.13, ``PDF.write``: with an identifier (WeasyPrint always passes one), the trailer's
   ``/ID`` hash is ``md5(b"".join(obj.data for obj in self.objects ...))``, computed after the
   objects were written: every object is serialised a second time and every stream compressed
   again at level 9, doubling the cost of writing. Fix: hash each object's bytes as they are
   written (or keep them) and use that digest.
"""

from __future__ import annotations

import structlog

from adapters.pdf.accelerated.modules import stale
from adapters.pdf.accelerated.releases import KNOWN, unknown_releases

log = structlog.get_logger(__name__)


def usable(wanted: bool) -> bool:
    """Whether renders take the accelerated path: asked for, on releases it knows, with no
    compiled module out of date. Otherwise, unless it was switched off, one line says why."""
    if not wanted:
        return False
    unknown = unknown_releases()
    if unknown:
        known = ", ".join(f"{name} {prefix}x" for name, prefix in KNOWN.items())
        log.warning("pdf.accelerator_off", reason=f"{', '.join(unknown)}: it knows {known}", path="stock")
        return False
    outdated = stale()
    if outdated:
        log.warning(
            "pdf.accelerator_off",
            reason=f"compiled modules out of date with their source (run make pdf-modules): {outdated}",
            path="stock",
        )
        return False
    return True
