"""Sub-commands of ``edgar-ingest``, one module per area; each exposes ``register(sub)``.

A command's handler has the signature ``(args, settings) -> exit code`` and is set on its
sub-parser with ``set_defaults(handler=...)``. Shared option helpers live in ``options``.
"""
