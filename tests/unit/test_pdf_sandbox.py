"""The Jinja sandbox of PDF templates: SSTI payloads raise or render nothing, sizes are bounded,
templates see plain data only, and a template that does not compile names its line.

These run in-process (no worker pool): they exercise the composer exactly as a worker does.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from adapters.pdf.html import HtmlComposer, compile_template, plain
from adapters.pdf.sandbox import DocumentSandbox, render_bounded
from adapters.pdf.weasyprint import WeasyPrintPdfRenderer, check_css
from application.pdf.documents import (
    DEFAULT_LAYOUT,
    InvoiceDocument,
    Party,
    PdfLayout,
    sample_invoice,
)
from domain.pdf.errors import RenderTooLarge, TemplateInvalid
from domain.shared.errors import InvalidInput

SECRET_MARKERS = ("<class", "subclasses", "os.", "builtins", "__globals__", "function", "module", "Popen")


@pytest.fixture(scope="module")
def composer() -> HtmlComposer:
    return HtmlComposer(max_html_chars=200_000)


def render_custom(composer: HtmlComposer, source: str) -> str:
    """The body a tenant template produces for the sample invoice (what a worker would lay out)."""
    html = composer.compose(sample_invoice(), PdfLayout(custom_body_template=source), {}).html
    return html.split("<body", 1)[1]


def assert_raises_or_renders_nothing(composer: HtmlComposer, source: str) -> None:
    try:
        body = render_custom(composer, source)
    except (SecurityError, UndefinedError, OverflowError, TypeError, RenderTooLarge):
        return
    for marker in SECRET_MARKERS:
        assert marker not in body, f"{source!r} leaked {marker!r}"
    assert "MARK[]" in body or "MARK" not in source, f"{source!r} rendered something"


# --- SSTI payloads, one test each -------------------------------------------------------------


def test_dunder_class_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ ''.__class__ }}")


def test_mro_walk_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ ''.__class__.__mro__[1].__subclasses__() }}")


def test_subclasses_through_a_document_value_are_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ doc.total.__class__.__mro__ }}")


def test_str_format_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ '{0.__class__.__mro__}'.format(doc) }}")


def test_str_format_map_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ '{x.__class__}'.format_map({'x': doc}) }}")


def test_format_padding_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ '{:>999999999}'.format(1) }}")


def test_attr_filter_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ doc|attr('__class__') }}")


def test_attr_filter_on_a_string_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ ''|attr('__class__')|attr('__mro__') }}")


def test_cycler_globals_are_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ cycler.__init__.__globals__.os.popen('id').read() }}")


def test_joiner_and_namespace_globals_are_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ joiner.__init__.__globals__ }}")
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ namespace.__init__.__globals__ }}")


def test_lipsum_is_gone(composer: HtmlComposer) -> None:
    assert_raises_or_renders_nothing(composer, "MARK[{{ lipsum.__globals__ }}]")


def test_self_template_reference_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ self._TemplateReference__context }}")


def test_mutating_data_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ doc.lines.append(1) }}")
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ doc.update({'total': 0}) }}")


def test_huge_range_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(OverflowError):
        render_custom(composer, "{{ range(10**9)|list|length }}")


def test_range_just_over_the_limit_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(OverflowError):
        render_custom(composer, "{% for i in range(100001) %}{% endfor %}")


def test_huge_string_multiplication_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ 'a' * 10**9 }}")


def test_string_multiplication_over_the_limit_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ 'ab' * 50001 }}")


def test_list_multiplication_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ ([1] * 10000000)|length }}")


def test_huge_power_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ 9 ** 99999999 }}")


def test_percent_format_width_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ '%0999999999d' % 1 }}")


def test_format_filter_width_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ '%*s'|format(999999999, 'x') }}")


def test_center_width_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ 'x'|center(1000000000) }}")


def test_join_blow_up_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ range(100000)|join('x' * 100000) }}")


def test_replace_blow_up_is_refused(composer: HtmlComposer) -> None:
    with pytest.raises(SecurityError):
        render_custom(composer, "{{ ('a' * 100000)|replace('a', 'b' * 1000) }}")


def test_random_filter_is_not_available() -> None:
    """Random output would break determinism; the filter is gone, which is a compile error."""
    with pytest.raises(TemplateInvalid):
        compile_template(DocumentSandbox(), "{{ [1, 2]|random }}")


def test_constant_folding_does_not_run_huge_filters_at_compile_time() -> None:
    """Jinja folds filters over constants when it compiles: the size checks apply there too."""
    started = time.perf_counter()
    template = compile_template(DocumentSandbox(), "{{ 'x'|center(1000000000) }}{{ 'y' * 1000000000 }}")
    assert time.perf_counter() - started < 1
    with pytest.raises(SecurityError):
        template.render()


def test_output_is_bounded() -> None:
    env = DocumentSandbox()
    template = env.from_string("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}")
    with pytest.raises(RenderTooLarge):
        render_bounded(template, {}, 10_000)


def test_output_bound_applies_to_custom_templates(composer: HtmlComposer) -> None:
    with pytest.raises(RenderTooLarge):
        render_custom(composer, "{% for i in range(100000) %}<p>{{ doc.client.name }}</p>{% endfor %}")


# --- what templates see -----------------------------------------------------------------------


def test_templates_see_plain_data_only() -> None:
    data = plain(sample_invoice())

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert isinstance(value, (str, int, Decimal, date, type(None))), type(value)

    walk(data)
    assert data["client"]["name"] == "Constructora Las Cumbres, S.A."
    assert data["legal_status"] == "DGI_AUTHORIZED"


def test_values_are_escaped(composer: HtmlComposer) -> None:
    hostile = replace(sample_invoice(), client=Party(name='<img src="file:///etc/passwd">'))
    html = composer.compose(hostile, DEFAULT_LAYOUT, {}).html
    assert '<img src="file:///etc/passwd">' not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


def test_a_custom_template_renders_document_data(composer: HtmlComposer) -> None:
    body = render_custom(
        composer, "<h1>{{ doc.client.name }}</h1><p>{{ doc.total|money }} {{ doc.issue_date|date }}</p>"
    )
    assert "<h1>Constructora Las Cumbres, S.A.</h1>" in body
    assert "$10,512.97 24/11/2024" in body  # sample_invoice(): 7 % on goods, 0 % on the basic basket


def test_custom_css_cannot_close_its_style_element(composer: HtmlComposer) -> None:
    layout = PdfLayout(custom_css="p { color: red } </style><img src=x>")
    html = composer.compose(sample_invoice(), layout, {}).html
    assert "</style><img src=x>" not in html


def test_a_layout_colour_must_be_hex() -> None:
    with pytest.raises(InvalidInput) as error:
        PdfLayout(primary_color="red; } body { display: none")
    assert error.value.field == "primaryColor"


# --- template and CSS syntax errors name their line -------------------------------------------


def test_template_syntax_error_names_the_line() -> None:
    renderer = WeasyPrintPdfRenderer()  # check_template needs no worker
    with pytest.raises(TemplateInvalid) as error:
        renderer.check_template("<p>uno</p>\n<p>{{ doc.number }}</p>\n{% endfor %}\n<p>cuatro</p>\n", None)
    assert error.value.line == 3
    assert "line 3" in error.value.message
    assert error.value.code == "TEMPLATE_INVALID"
    assert error.value.field == "customBodyTemplate"
    renderer.close()


def test_template_with_an_unclosed_expression_names_the_line() -> None:
    renderer = WeasyPrintPdfRenderer()
    with pytest.raises(TemplateInvalid) as error:
        renderer.check_template("ok\nok\n{{ doc.number }\n", None)
    assert error.value.line == 3
    renderer.close()


def test_unknown_filter_is_a_template_error() -> None:
    with pytest.raises(TemplateInvalid) as error:
        compile_template(DocumentSandbox(), "line one\n{{ doc.total|no_such_filter }}")
    assert error.value.line == 2


def test_valid_template_and_css_pass() -> None:
    renderer = WeasyPrintPdfRenderer()
    renderer.check_template(
        "{% for line in doc.lines %}{{ line.description }} {{ line.total|money }}{% endfor %}",
        ".party { border: 1px solid #000 } @media print { .x { color: red } }",
    )
    renderer.close()


def test_css_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateInvalid) as error:
        check_css(".a { color: red }\n.b { color: blue }\n.c { color green }\n")
    assert error.value.field == "customCss"
    assert error.value.line == 3


def test_invoice_document_rejects_a_quote_type() -> None:
    with pytest.raises(InvalidInput):
        InvoiceDocument(**{**_invoice_kwargs(), "document_type": "QUOTE"})  # type: ignore[arg-type]


def _invoice_kwargs() -> dict[str, object]:
    invoice = sample_invoice()
    return {name: getattr(invoice, name) for name in invoice.__dataclass_fields__}
