"""PDF rendering: the failures a render can end in (the renderer itself is a port)."""
