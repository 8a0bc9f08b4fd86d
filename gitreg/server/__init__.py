"""The scoring server: a Falcon WSGI app over gitreg.pyfunc."""
