"""WSGI entry point (PythonAnywhere: point the web app's WSGI file here).

On PythonAnywhere, the WSGI configuration file can simply contain::

    import sys
    sys.path.insert(0, "/home/<you>/<this repository>")
    from wsgi import application

Leave the "Static files" section empty: Flask serves /static/ itself, with the
site's headers (cross-origin isolation) and compression, which a static mapping
would drop. Elsewhere: ``waitress-serve wsgi:application``; locally:
``flask --app wsgi run``. More: docs/deploying.md.
"""

from webapp import create_app

application = create_app()
