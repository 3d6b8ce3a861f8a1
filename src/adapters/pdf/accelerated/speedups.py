"""The accelerator's patches of WeasyPrint 70.x and pydyf 0.13.x: what WeasyPrint repeats on
every render of a warm worker, done once or faster. What each does and why, and the bugs that
belong upstream: see the package's docstring (``adapters/pdf/accelerated/__init__.py``).

``install()`` patches, once per process; ``PdfEngine`` calls it only where ``usable()`` said
the installed releases are the ones these patches were checked against. Nothing happens at import.
"""

from __future__ import annotations

import re
import zlib
from collections import OrderedDict
from typing import Any

import pydyf
from tinyhtml5 import inputstream as html_input
from weasyprint import css as wp_css
from weasyprint import images as wp_images
from weasyprint.pdf import fonts as wp_fonts

SUBSET_CACHE_ENTRIES = 128
COMPRESSED_ENTRIES = 32
# pydyf deflates every stream at level 9: 1.3 ms for an invoice's 22 kB page content, which
# level 6 packs in 0.2 ms into 131 bytes more (fonts: the same size within a few bytes).
COMPRESSION_LEVEL = 6
COMPRESSED_MIN_BYTES = 2048
KEPT_LAYOUTS = 2_000  # line layouts kept from layout to drawing, per document
_kept_layouts = 0
_installed = False
enabled = True  # the engine switches the font subset cache off while web fonts are loaded
_subsets: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()


def _copy(value: Any) -> Any:
    """A fresh copy of the containers of an XObject (pydyf mutates them when writing)."""
    if isinstance(value, pydyf.Stream):
        return pydyf.Stream(list(value.stream), _copy(value.extra), value.compress)
    if isinstance(value, pydyf.Dictionary):
        return pydyf.Dictionary({key: _copy(item) for key, item in value.items()})
    if isinstance(value, pydyf.Array):
        return pydyf.Array(_copy(item) for item in value)
    return value


def _frozen(value: Any) -> Any:
    """``value`` with its lazy image data read into bytes, so it no longer depends on the
    image data cache of one render."""
    if isinstance(value, pydyf.Stream):
        items = [item.data if isinstance(item, wp_images.LazyImage) else item for item in value.stream]
        return pydyf.Stream(items, _frozen(value.extra), value.compress)
    if isinstance(value, pydyf.Dictionary):
        return pydyf.Dictionary({key: _frozen(item) for key, item in value.items()})
    return value


class _CharsUntilRegexes(dict):  # type: ignore[type-arg]
    """tinyhtml5's ``characters_until_regex``, with the same patterns, keyed as intended."""

    def __missing__(self, key: tuple[Any, bool]) -> re.Pattern[str]:
        characters, opposite = key
        regex = "".join([f"\\x{ord(character):02x}" for character in characters])
        if not opposite:
            regex = f"^{regex}"
        compiled = self[key] = re.compile(f"[{regex}]+")
        return compiled


def start_document() -> None:
    """Called before each render: resets what is budgeted per document."""
    global _kept_layouts
    _kept_layouts = 0


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True

    if isinstance(getattr(html_input, "characters_until_regex", None), dict):
        html_input.characters_until_regex = _CharsUntilRegexes()

    original_x_object = wp_images.RasterImage.get_x_object

    def get_x_object(self: Any, interpolate: Any, dpi_ratio: Any) -> Any:
        memo = self.__dict__.setdefault("_istmo_x_objects", {})
        key = (bool(interpolate), dpi_ratio)
        frozen = memo.get(key)
        if frozen is None:
            x_object = original_x_object(self, interpolate, dpi_ratio)
            if type(x_object) is not pydyf.Stream or dpi_ratio != 1:
                return x_object
            frozen = memo[key] = _frozen(x_object)
        return _copy(frozen)

    wp_images.RasterImage.get_x_object = get_x_object

    original_subset = wp_fonts.Font.subset

    def subset(self: Any, to_unicode: Any, hinting: Any) -> None:
        if not enabled or not to_unicode:
            original_subset(self, to_unicode, hinting)
            return
        content = self.file_content
        key = (
            self.hash,
            self.index,
            len(content),
            bytes(content[:256]),
            bytes(content[-256:]),
            bool(self.missing),
            bool(hinting),
            tuple(sorted(to_unicode)),
        )
        cached = _subsets.get(key)
        if cached is not None:
            _subsets.move_to_end(key)
            self.file_content = cached
            return
        original_subset(self, to_unicode, hinting)
        _subsets[key] = self.file_content
        if len(_subsets) > SUBSET_CACHE_ENTRIES:
            _subsets.popitem(last=False)

    wp_fonts.Font.subset = subset

    _install_pdf_write_memo()

    _install_style_fast_path()
    _install_percentages_fast_path()
    _install_font_description_cache()
    _install_strut_memo()
    if _install_glyph_fast_path():
        _install_line_layout_reuse()  # its kept layouts are drawn by that short path only
    _install_pango_context_cache()


def _install_strut_memo() -> None:
    """``strut`` (the line height and baseline of a style, ~2 per line of text) looks its
    result up under ``str()`` of a 14-value tuple of the style's font properties, rebuilt on
    every call. The result is kept on the style itself: a computed style's values do not
    change once computed (WeasyPrint edits copies), so neither does its strut."""
    import importlib

    from weasyprint.text import line_break

    original = line_break.strut

    def strut(style: Any) -> Any:
        memo = style.__dict__
        result = memo.get("istmo_strut")
        if result is None:
            result = memo["istmo_strut"] = original(style)
        return result

    users = ("text.line_break", "layout.inline", "css.units", "css.computed_values")
    for name in users:
        module = importlib.import_module(f"weasyprint.{name}")
        if getattr(module, "strut", None) is original:
            module.strut = strut


def _install_line_layout_reuse() -> None:
    """A line of text costs three Pango layouts in WeasyPrint: one to find where it breaks, one
    of the line alone (``first_line_metrics``, when more text follows), and a third when it is
    drawn (``Layout.reactivate``, as the layout was dropped to save memory). Two are saved:

    - A line that ends at a preserved newline (each row of a ``pre``/``pre-line`` block) is
      not laid out alone again: Pango lays paragraphs out independently, so its width,
      height, baseline and glyphs are the same with or without the text after the newline.
      Not with letter or word spacing (applied over the whole text, with extra spacing at
      its ends). (Spaces before a preserved newline never collapse there: ``pre-line`` text
      has them removed when its white space is processed.)
    - The layout of a line is kept for drawing instead of being rebuilt: it has the line's
      text, style and glyphs the rebuilt one would have (the width it was broken at, when it
      has one, changes where Pango would align the line, not its glyphs). Not when the line is
      justified (WeasyPrint then gives the box a new layout anyway) or drawn with another
      style; the short ``draw_first_line`` (installed only with it: WeasyPrint's own would
      re-lay a kept layout out as one paragraph) rebuilds it for anything it does not handle
      (ellipsis, colour fonts...). Drawn once, it is dropped as before. A kept layout holds
      ~6 kB until the page is drawn, after the whole document is laid out, so at most
      ``KEPT_LAYOUTS`` are kept per document (``start_document()`` resets the count).
    """
    from weasyprint.text import line_break
    from weasyprint.text.ffi import FROM_UNITS, pango

    original_metrics = line_break.first_line_metrics
    original_reactivate = line_break.Layout.reactivate
    line_size = line_break.line_size

    def first_line_metrics(
        first_line: Any,
        text: str,
        layout: Any,
        resume_at: Any,
        space_collapse: bool,
        style: Any,
        hyphenated: bool = False,
        hyphenation_character: Any = None,
    ) -> Any:
        if hyphenated:
            return original_metrics(
                first_line, text, layout, resume_at, space_collapse, style, True, hyphenation_character
            )
        length = first_line.length
        if resume_at:
            encoded = text[: length + 1].encode()  # a character is at least a byte
            line_text = encoded[:length].decode()
            spaced = style["word_spacing"] != 0 or style["letter_spacing"] not in ("normal", 0)
            if encoded[length : length + 1] == b"\n" and not spaced:
                layout.text = line_text
            else:
                pango.pango_layout_set_width(layout.layout, -1)
                layout.set_text(line_text.rstrip(" ") if space_collapse else line_text)
                first_line, _ = layout.get_first_line()
                length = first_line.length if first_line is not None else 0
        width, height = line_size(first_line, style)
        baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
        global _kept_layouts
        if _kept_layouts < KEPT_LAYOUTS:
            _kept_layouts += 1
            layout.istmo_drawable = True
        else:
            layout.deactivate()
        return layout, length, resume_at, width, height, baseline

    def reactivate(self: Any, style: Any) -> None:
        drawable = self.__dict__.pop("istmo_drawable", False)
        if drawable and style is self.style and not self.justification_spacing:
            self.istmo_reused = True
            return
        original_reactivate(self, style)

    line_break.first_line_metrics = first_line_metrics
    line_break.Layout.reactivate = reactivate


def _install_pango_context_cache() -> None:
    """``Layout.setup`` runs for every piece of text laid out and again when it is drawn
    (~150 times an invoice) and creates a new Pango context each time, configured only by
    the font map, the direction and the language. One context per such triple is kept and
    shared by the layouts (a context is not modified once set up; each holds a reference to
    its font map, so a font map address cannot be reused while it is cached). The OpenType
    features string is kept per combination of the properties it comes from. The rest of
    ``setup`` is WeasyPrint 70.0's, unchanged."""
    from weasyprint.text import line_break
    from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
    from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
    from weasyprint.text.fonts import font_features

    contexts: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    # The OpenType features string of a combination of the eight font-variant properties (the
    # rows of tables set kerning and ligatures off and figures tabular: ~15,000 instructions a
    # layout to work out again). WeasyPrint's own cache of the Pango attribute is then read
    # without creating an attribute that is thrown away.
    encoded_features: dict[tuple[Any, ...], bytes] = {}

    def context_for(font_map: Any, direction: str, lang: str | None) -> tuple[Any, Any]:
        key = (int(ffi.cast("uintptr_t", font_map)), direction, lang)
        cached = contexts.get(key)
        if cached is None:
            if len(contexts) >= 64:
                contexts.clear()
            context = ffi.gc(pango.pango_font_map_create_context(font_map), gobject.g_object_unref)
            pango.pango_context_set_round_glyph_positions(context, False)
            pango.pango_context_set_base_dir(context, PANGO_DIRECTION[direction])
            if lang:
                lang_p, _ = unicode_to_char_p(lang)
                language = pango.pango_language_from_string(lang_p)
                pango.pango_context_set_language(context, language)
            else:
                language = pango.pango_language_get_default()
            cached = contexts[key] = (context, language)
        return cached

    def setup(self: Any, style: Any) -> None:
        self.style = style
        self.first_line_direction = 0
        if style["font_language_override"] != "normal":
            override = style["font_language_override"]
            lang = LST_TO_ISO.get(override.lower(), override)
        else:
            lang = style["lang"] or None
        context, self.language = context_for(style.font_config.font_map, style["direction"], lang)
        assert not isinstance(style["font_family"], str), "font_family should be a list"
        font_description = line_break.get_font_description(style)
        self.layout = ffi.gc(pango.pango_layout_new(context), gobject.g_object_unref)
        pango.pango_layout_set_auto_dir(self.layout, False)
        pango.pango_layout_set_font_description(self.layout, font_description)

        if style["text_decoration_line"] != "none":
            metrics = ffi.gc(
                pango.pango_context_get_metrics(context, font_description, self.language),
                pango.pango_font_metrics_unref,
            )
            self.ascent = FROM_UNITS * pango.pango_font_metrics_get_ascent(metrics)
            self.underline_position = FROM_UNITS * pango.pango_font_metrics_get_underline_position(metrics)
            self.strikethrough_position = FROM_UNITS * pango.pango_font_metrics_get_strikethrough_position(
                metrics
            )
            self.underline_thickness = FROM_UNITS * pango.pango_font_metrics_get_underline_thickness(metrics)
            self.strikethrough_thickness = FROM_UNITS * pango.pango_font_metrics_get_strikethrough_thickness(
                metrics
            )
        else:
            self.ascent = None
            self.underline_position = None
            self.strikethrough_position = None

        values = (
            style["font_kerning"],
            style["font_variant_ligatures"],
            style["font_variant_position"],
            style["font_variant_caps"],
            style["font_variant_numeric"],
            style["font_variant_alternates"],
            style["font_variant_east_asian"],
            style["font_feature_settings"],
        )
        try:
            encoded = encoded_features.get(values)
            cacheable = True
        except TypeError:  # a value that cannot be a key: worked out every time, as WeasyPrint does
            encoded, cacheable = None, False
        if encoded is None:
            features = font_features(*values)
            encoded = ",".join(f"{name} {value}" for name, value in features.items()).encode()
            if cacheable:
                if len(encoded_features) >= 256:
                    encoded_features.clear()
                encoded_features[values] = encoded
        if encoded:
            attrs = style.font_config.font_features
            attr = attrs.get(encoded)
            if attr is None:
                attr = attrs[encoded] = pango.pango_attr_font_features_new(encoded)
            attr_list = pango.pango_attr_list_new()
            pango.pango_attr_list_insert(attr_list, attr)
            pango.pango_layout_set_attributes(self.layout, attr_list)

    line_break.Layout.setup = setup


def _install_glyph_fast_path() -> bool:
    """``draw_first_line`` turns every glyph of a line into PDF text operators, reading each
    glyph's fields through cffi one attribute at a time (~2 us a glyph, ~2,000 glyphs an
    invoice). Here the glyph array of a run is read in one go (``struct.iter_unpack`` over
    the ``PangoGlyphInfo`` array) and the same operators are written, with the same floats.

    Only the plain case takes the short path: no ellipsis, no colour/bitmap emoji font, no
    missing glyph, no vertical offset. Anything else, detected before a single operator is
    written, goes to WeasyPrint's own function."""
    import struct

    from weasyprint.draw import text as wp_draw_text
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango

    original = wp_draw_text.draw_first_line
    # glyph, width, x and y offsets; the last 4 bytes (PangoGlyphVisAttr) are skipped: two bits
    # of them are defined and the other 30 are whatever the memory held, so a key made with them
    # missed the cache below for ~2 glyphs in 3 (a 600-row statement: 30,000 misses, 1,500 now).
    glyph_info = struct.Struct("=Iiii4x")
    if ffi.sizeof("PangoGlyphInfo") != glyph_info.size:
        return False
    empty = pango.PANGO_GLYPH_EMPTY
    unknown = pango.PANGO_GLYPH_UNKNOWN_FLAG
    old_pango = pango.pango_version() < 14802
    unpack_clusters = ffi.unpack
    info_size = glyph_info.size

    def draw_first_line(stream: Any, textbox: Any, text_overflow: Any, block_ellipsis: Any, matrix: Any) -> Any:
        layout = textbox.pango_layout
        reused = layout.__dict__.pop("istmo_reused", False)

        def weasyprints() -> Any:
            if reused:  # the kept layout of the line (see _install_line_layout_reuse): rebuild it
                layout.reactivate(textbox.style)
            return original(stream, textbox, text_overflow, block_ellipsis, matrix)

        if text_overflow == "ellipsis" or block_ellipsis != "none":
            return weasyprints()
        if not textbox.text.strip():
            return []
        style = textbox.style
        if style["font_size"] < 1e-6:
            return []
        if not reused:
            pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
        first_line, _ = layout.get_first_line()

        runs = []
        run = first_line.runs[0]
        while run != ffi.NULL:
            item_glyphs = run.data
            run = run.next
            glyph_string = item_glyphs.glyphs
            count = glyph_string.num_glyphs
            glyphs = list(glyph_info.iter_unpack(ffi.buffer(glyph_string.glyphs, count * info_size)))
            for glyph_id, _width, _x, y_offset in glyphs:
                if (glyph_id != empty and glyph_id & unknown) or y_offset:
                    return weasyprints()
            runs.append((item_glyphs, glyph_string, count, glyphs))
        fonts = {}
        for item_glyphs, *_ in runs:
            pango_font = item_glyphs.item.analysis.font
            if pango_font not in fonts:
                font, font_size = fonts[pango_font] = stream.add_font(pango_font)
                if font.svg or font.png or font.colr:
                    return weasyprints()

        # Operators of each glyph already drawn on this page, by font and size (the fonts
        # live as long as the page's stream, so their ids stay theirs).
        by_font = stream.__dict__.setdefault("_istmo_glyph_fragments", {})
        stream.set_text_matrix(*matrix.values)
        previous_pango_font = None
        string = ""
        utf8_text = None
        for item_glyphs, glyph_string, count, glyphs in runs:
            item = item_glyphs.item
            pango_font = item.analysis.font
            if pango_font != previous_pango_font:
                previous_pango_font = pango_font
                font, font_size = fonts[pango_font]
                if old_pango:
                    font_size = style["font_size"]
                if string:
                    stream.show_text(string)
                string = ""
                stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
                to_unicode = font.to_unicode
                widths = font.widths
                fragments = by_font.setdefault((id(font), font_size), {})
                hex_format = "02x" if font.bitmap else "04x"
            clusters = None
            parts = ["<"]
            add = parts.append
            for i, glyph in enumerate(glyphs):
                fragment = fragments.get(glyph)
                if fragment is not None:
                    add(fragment)
                    continue
                glyph_id, width, x_offset, _y = glyph
                if glyph_id == empty:
                    fragment = f">{-width / font_size}<"
                else:
                    if glyph_id not in to_unicode:
                        if clusters is None:
                            clusters = unpack_clusters(glyph_string.log_clusters, count)
                        offset = item.offset
                        t1 = clusters[i]
                        if item.analysis.level % 2:  # right to left
                            t2 = item.length if i == 0 else clusters[i - 1]
                        else:
                            t2 = item.length if i == count - 1 else clusters[i + 1]
                        utf8_text = utf8_text or layout.text.encode()
                        to_unicode[glyph_id] = utf8_text[offset + t1 : offset + t2].decode()
                    offset = x_offset / font_size
                    fragment = f">{-offset}<" if offset else ""
                    fragment += format(glyph_id, hex_format)
                    logical_width = widths.get(glyph_id)
                    if logical_width is None:
                        pango.pango_font_get_glyph_extents(
                            pango_font, glyph_id, stream.ink_rect, stream.logical_rect
                        )
                        logical_width = widths[glyph_id] = round(
                            stream.logical_rect.width * 1000 * FROM_UNITS / font_size
                        )
                    kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
                    if kerning:
                        fragment += f">{int(kerning)}<"
                # The same glyph of the same font at the same size and offsets gives the same
                # operators, and is then already in the font's ToUnicode map and widths.
                fragments[glyph] = fragment
                add(fragment)
            string += "".join(parts)
            if string[-1] == "<":
                string = string[:-1]
            else:
                string += ">"
        stream.show_text(string)
        return []

    wp_draw_text.draw_first_line = draw_first_line
    return True


def _install_pdf_write_memo() -> None:
    """pydyf's ``PDF.write`` serialises every top-level object twice when the PDF has an
    identifier (once to write it, once more for the MD5 in the trailer's ``/ID``), so every
    stream is compressed twice at level 9. During a write, the serialisation of each
    top-level object is computed once and reused. Objects are not modified while a PDF is
    written; nested and temporary objects (``Stream.data`` builds a new dictionary each
    time) are never memoised, so a reused ``id()`` cannot be confused.

    Streams are deflated at ``COMPRESSION_LEVEL`` (6, zlib's default) instead of 9. Besides,
    the compressed form of a large stream is kept by content in a small LRU: the
    embedded font subsets are the same bytes from one invoice to the next (see ``subset``),
    and zlib gives the same output for the same input and level."""
    memo: dict[int, bytes | None] | None = None
    absent = object()
    compressed: OrderedDict[bytes, bytes] = OrderedDict()

    def memoised(fget: Any) -> property:
        def data(self: Any) -> Any:
            if memo is not None:
                value = memo.get(id(self), absent)
                if value is not absent:
                    if value is None:
                        value = memo[id(self)] = fget(self)
                    return value
            return fget(self)

        return property(data)

    to_bytes = pydyf._to_bytes

    def stream_data(self: Any) -> bytes:
        # pydyf 0.13's ``Stream.data``, at level 6, with the compressed bytes of large streams kept.
        stream = b"\n".join(to_bytes(item) for item in self.stream)
        extra = pydyf.Dictionary(self.extra.copy())
        if self.compress:
            extra["Filter"] = "/FlateDecode"
            packed = compressed.get(stream) if len(stream) >= COMPRESSED_MIN_BYTES else None
            if packed is None:
                compressor = zlib.compressobj(level=COMPRESSION_LEVEL)
                packed = compressor.compress(stream) + compressor.flush()
                if len(stream) >= COMPRESSED_MIN_BYTES:
                    compressed[stream] = packed
                    if len(compressed) > COMPRESSED_ENTRIES:
                        compressed.popitem(last=False)
            else:
                compressed.move_to_end(stream)
            stream = packed
        extra["Length"] = len(stream)
        return b"\n".join((extra.data, b"stream", stream, b"endstream"))

    for cls in (pydyf.Dictionary, pydyf.Array, pydyf.String):
        cls.data = memoised(cls.data.fget)
    pydyf.Stream.data = memoised(stream_data)

    original_write = pydyf.PDF.write

    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal memo
        memo = {id(item): None for item in self.objects}
        try:
            return original_write(self, *args, **kwargs)
        finally:
            memo = None

    pydyf.PDF.write = write


def _install_font_description_cache() -> None:
    from weasyprint.text import line_break

    original = line_break.get_font_description
    descriptions: dict[tuple[Any, ...], Any] = {}

    def get_font_description(style: Any) -> Any:
        try:
            key = (
                tuple(style["font_family"]),
                style["font_style"],
                style["font_stretch"],
                style["font_weight"],
                style["font_size"],
                style["font_variant_caps"],
                style["font_variation_settings"],
            )
            description = descriptions.get(key)
        except TypeError:  # an unhashable value: no caching
            return original(style)
        if description is None:
            if len(descriptions) >= 256:
                descriptions.clear()
            description = descriptions[key] = original(style)
        return description

    line_break.get_font_description = get_font_description


def _install_percentages_fast_path() -> None:
    import importlib
    import pkgutil

    from weasyprint import layout as wp_layout
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import percent

    original = percent.resolve_percentages
    percentage = percent.percentage
    adjust_box_sizing = percent.adjust_box_sizing
    check_math = percent.check_math
    box_class = boxes.Box
    page_box_class = boxes.PageBox
    inf = float("inf")
    sides = ("top", "right", "bottom", "left")

    def resolve_percentages(box: Any, containing_block: Any) -> None:
        if isinstance(containing_block, box_class):
            cb_width = containing_block.width
            cb_height = containing_block.height
        else:
            cb_width, cb_height = containing_block
        maybe_height = cb_height if isinstance(box, page_box_class) else cb_width
        style = box.style
        lengths: tuple[tuple[str, Any], ...] = (
            ("margin_left", cb_width),
            ("margin_right", cb_width),
            ("margin_top", maybe_height),
            ("margin_bottom", maybe_height),
            ("padding_left", cb_width),
            ("padding_right", cb_width),
            ("padding_top", maybe_height),
            ("padding_bottom", maybe_height),
            ("width", cb_width),
            ("min_width", cb_width),
            ("max_width", cb_width),
        )
        if cb_height == "auto":
            height = style["height"]
            if height == "auto" or check_math(height) or height.unit == "%":
                box.height = "auto"
            else:
                assert height.unit.lower() == "px"
                box.height = height.value
            lengths += (("min_height", 0), ("max_height", inf))
        else:
            lengths += (("height", cb_height), ("min_height", cb_height), ("max_height", cb_height))
        for name, refer_to in lengths:
            value = style[name]
            if value is None or value == "auto":
                used = value
            else:
                unit = getattr(value, "unit", None)
                if unit == "%":
                    used = refer_to * value.value / 100
                elif unit is None:
                    used = percentage(value, style, refer_to)
                else:
                    used = value.value
            if used == "auto" and (name == "min_width" or name == "min_height"):
                used = 0
            setattr(box, name, used)
        collapse = style["border_collapse"] == "collapse"
        for side in sides:
            prop = f"border_{side}_width"
            if not (collapse and hasattr(box, prop)):
                setattr(box, prop, style[prop])
        adjust_box_sizing(box, "width")
        adjust_box_sizing(box, "height")

    percent.resolve_percentages = resolve_percentages
    for info in pkgutil.iter_modules(wp_layout.__path__):
        module = importlib.import_module(f"weasyprint.layout.{info.name}")
        if getattr(module, "resolve_percentages", None) is original:
            module.resolve_percentages = resolve_percentages


def _install_style_fast_path() -> None:
    computed_style = wp_css.ComputedStyle
    original_missing = computed_style.__missing__
    check_math = wp_css.check_math
    initial_values = wp_css.INITIAL_VALUES
    # Properties whose computed value is the parent's, or the initial value as it is, when no
    # stylesheet sets them; anything with its own rule in ``__missing__`` is left out.
    special = {"float", "display", "position", "page"}
    physical = wp_css.PHYSICAL_FUNCTIONS
    plain = {
        key
        for key in initial_values
        if key not in special
        and not key.startswith(("text_decoration_", "__"))
    }
    inherited = frozenset(key for key in plain if key in wp_css.INHERITED)
    initial = {
        key: initial_values[key]
        for key in plain
        if key not in wp_css.INHERITED
        and key not in wp_css.INITIAL_NOT_COMPUTED
        and not check_math(initial_values[key])
    }

    # The logical property a physical one stands for, by direction (pure functions of it).
    logical: dict[str, dict[str, str]] = {
        key: {direction: function(block="ttb", inline=direction) for direction in ("ltr", "rtl")}
        for key, function in physical.items()
    }
    missing = object()

    def __missing__(self: Any, key: str) -> Any:
        cascaded = self.cascaded
        if key not in cascaded:
            by_direction = logical.get(key)
            if by_direction is not None:
                direction = self["direction"]
                if direction not in by_direction or by_direction[direction] in cascaded:
                    return original_missing(self, key)
            value = initial.get(key, missing)
            if value is not missing:
                self[key] = value
                return value
            if key in inherited:
                parent = self.parent_style
                if parent is not None:
                    value = parent[key]
                    if (type(value) is not tuple and getattr(value, "type", None) != "function") or not (
                        check_math(value)
                    ):
                        self[key] = value
                        return value
        return original_missing(self, key)

    computed_style.__missing__ = __missing__

    # Most of those initial values are read for most elements: a new style starts with all of
    # them in place (one C-level ``dict.update``), less those a declaration of the element
    # could change: its own cascaded properties and, for a physical property, the logical
    # ones it may stand for. What is left is exactly what ``__missing__`` above would store.
    blocked_by: dict[str, list[str]] = {}
    for key in initial:
        for blocker in (key, *logical.get(key, {}).values()):
            blocked_by.setdefault(blocker, []).append(key)
    original_init = computed_style.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.update(initial)
        for key in self.cascaded:
            for blocked in blocked_by.get(key, ()):
                self.pop(blocked, None)

    computed_style.__init__ = __init__

    # Anonymous boxes (lines, text, anonymous blocks) take the initial value of every
    # property that is not inherited and has no rule of its own: the same start for them.
    anonymous_style = wp_css.AnonymousStyle
    anonymous_initial = {
        key: value
        for key, value in initial.items()
        if key not in wp_css.INHERITED and key != "page" and not key.startswith(("text_decoration_", "__"))
    }
    original_anonymous_init = anonymous_style.__init__

    def anonymous_init(self: Any, parent_style: Any) -> None:
        self.update(anonymous_initial)  # before WeasyPrint's own values (border widths of 0)
        original_anonymous_init(self, parent_style)

    anonymous_style.__init__ = anonymous_init
