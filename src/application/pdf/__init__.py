"""PDF rendering: the documents that can be rendered, their layout, and the renderer port."""
