"""The registry browser: server-rendered pages over the registry (``gitreg ui``).

:func:`gitreg.ui.app.create_app` builds the Falcon WSGI app;
:func:`gitreg.ui.serve.serve` runs it under gunicorn.
"""
