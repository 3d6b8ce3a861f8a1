"""PDF rendering on WeasyPrint: sandboxed Jinja templates, a closed URL fetcher, a pool of
warm worker processes with time and memory limits (see ``weasyprint.WeasyPrintPdfRenderer``)."""
