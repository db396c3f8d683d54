"""WSGI entry point (PythonAnywhere: point the web app's WSGI file here).

On PythonAnywhere, the WSGI configuration file can simply contain::

    import sys
    sys.path.insert(0, "/home/<you>/<this repository>")
    from wsgi import application

Optionally map the URL /static/ to the repository's static/ folder in the
"Static files" section so that the model and TF.js are served without Flask.
Locally: ``flask --app wsgi run``.
"""
from webapp import create_app

application = create_app()
