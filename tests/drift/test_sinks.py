"""Alert sinks against a real local HTTP server: delivery, errors, timeouts, never fatal."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from halfcost.drift import AlertPolicy, AlertSink, PrintSink, WebhookSink, notify
from halfcost.drift._events import make_event


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        server.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        if server.delay_s:
            time.sleep(server.delay_s)
        self.send_response(server.status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.received, httpd.status, httpd.delay_s = [], 200, 0.0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url_of(httpd, path="/hook") -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}{path}"


def alert() -> dict:
    return make_event(
        "alert",
        project="churn",
        batch="b7",
        decision="retrain",
        reason="3 of 11 columns drifted",
        details={"drifted_columns": ["plan"]},
    )


def test_webhook_posts_the_event_as_json(server):
    event = alert()
    sink = WebhookSink(url_of(server))
    assert notify(event, [sink]) == []
    assert server.received == [("/hook", "application/json", event)]
    assert sink.failures == []


def test_http_error_is_recorded_and_printed_not_raised(server):
    server.status = 500
    stream = io.StringIO()
    sink = WebhookSink(url_of(server), stream=stream)
    sink.send(alert())
    assert sink.failures == [
        f"webhook POST to {url_of(server)} failed (HTTP 500 Internal Server Error)"
    ]
    assert "the alert is still in the event log" in stream.getvalue()


def test_timeout_and_unreachable_server_are_not_fatal(server, capsys):
    server.delay_s = 2.0
    slow = WebhookSink(url_of(server), timeout_s=0.3)
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    dead = WebhookSink(f"http://127.0.0.1:{dead_port}/hook", timeout_s=1)
    failures = notify(alert(), [slow, dead])
    assert len(failures) == 2
    assert "timed out" in failures[0] and "refused" in failures[1].lower()
    assert capsys.readouterr().err.count("halfcost: warning: webhook POST") == 2


def test_a_broken_custom_sink_does_not_stop_the_others(server, capsys):
    class Broken(AlertSink):
        def send(self, event):
            raise RuntimeError("chat service down")

    sink = WebhookSink(url_of(server))
    failures = notify(alert(), [Broken(), sink])
    assert failures == ["Broken failed (chat service down)"]
    assert len(server.received) == 1


def test_print_sink_and_policy_sinks(server):
    stream = io.StringIO()
    PrintSink(stream).send(alert())
    line = stream.getvalue().strip()
    assert line.startswith("halfcost alert [churn] batch b7 at ")
    assert line.endswith("retrain — 3 of 11 columns drifted")
    sinks = AlertPolicy(webhook_url=url_of(server)).sinks()
    assert [type(s) for s in sinks] == [PrintSink, WebhookSink]
    assert [type(s) for s in AlertPolicy().sinks()] == [PrintSink]
