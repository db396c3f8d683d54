"""The site under waitress, the production WSGI server documented in the README."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "wsgi:application"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"waitress exited: {process.stderr.read().decode()[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def test_page_and_model_files_are_served(server_url):
    with urllib.request.urlopen(server_url + "/") as response:
        assert response.status == 200
        assert "Content-Security-Policy" in response.headers
        assert "not a diagnosis" in response.read().decode().lower()
    with urllib.request.urlopen(server_url + "/static/tfjs_model/index.json") as response:
        assert response.status == 200 and b'"tasks"' in response.read()
    with urllib.request.urlopen(server_url + "/static/js/classifier.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")


def test_other_methods_are_refused(server_url):
    request = urllib.request.Request(server_url + "/", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 405
    error.value.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_serve_command_serves_as_deployed():
    """``bash scripts/serve.sh`` (the README's command) runs waitress, not Flask's development
    server: no red warning, one ``Date`` header, and no versions in ``Server``."""
    import os

    port = free_port()
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    headers = response.headers
                    assert response.status == 200
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"serve.sh exited: {process.stdout.read().decode()[-2000:]}")
                time.sleep(0.1)
        else:
            pytest.fail("serve.sh did not answer in 60 s")
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert len(headers.get_all("Date")) == 1
    server = headers.get("Server", "")
    assert not any(c.isdigit() for c in server) and "Werkzeug" not in server, server
    assert "development server" not in output.lower()
    assert f"http://127.0.0.1:{port}/" in output
