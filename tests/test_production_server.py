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
