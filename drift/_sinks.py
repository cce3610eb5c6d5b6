"""Where alerts go: an extension point (:class:`AlertSink`) with a printer and a webhook.

A sink must never stop the monitor: an alert is already in the event log when it is sent,
so a failed delivery is reported (printed to standard error, kept in ``sink.failures``,
returned by :func:`notify` so the caller can record it) and the run carries on.
"""

from __future__ import annotations

import abc
import sys
import urllib.error
import urllib.request
from typing import Any, TextIO

from halfcost.jsonio import to_json


class AlertSink(abc.ABC):
    """Receives alert events (dicts in the event-log schema, see ``docs/events.md``).

    Subclass and implement :meth:`send` to route alerts elsewhere (chat, e-mail, a pager);
    pass instances to :func:`notify`.
    """

    @abc.abstractmethod
    def send(self, event: dict[str, Any]) -> None:
        """Deliver one event. A failure must not raise: report it and append it to
        ``self.failures`` (see :class:`WebhookSink`)."""


class PrintSink(AlertSink):
    """Prints one line per alert: time, kind, decision and reason.

    Args:
        stream: where to print (default: standard output).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.failures: list[str] = []

    def send(self, event: dict[str, Any]) -> None:
        """Print the event as one human-readable line."""
        stream = self.stream or sys.stdout
        where = f" [{event['project']}]" if event.get("project") else ""
        batch = f" batch {event['batch']}" if event.get("batch") else ""
        print(
            f"halfcost {event.get('kind', 'event')}{where}{batch} at {event.get('time')}: "
            f"{event.get('decision', '')} — {event.get('reason', '')}",
            file=stream,
            flush=True,
        )


class WebhookSink(AlertSink):
    """POSTs each event as JSON to a URL (Slack-style incoming webhooks, alert routers).

    Args:
        url: the http(s) endpoint.
        timeout_s: seconds to wait for the server before giving up.
        stream: where failures are printed (default: standard error).

    Attributes:
        failures: messages of failed deliveries, oldest first.
    """

    def __init__(self, url: str, timeout_s: float = 5, stream: TextIO | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.stream = stream
        self.failures: list[str] = []

    def send(self, event: dict[str, Any]) -> None:
        """POST the event; a failure is printed and recorded in ``failures``, never raised."""
        body = to_json(event, indent=None).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "halfcost-drift"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            self._fail(f"HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            self._fail(str(reason) or type(exc).__name__)

    def _fail(self, why: str) -> None:
        report_failure(self, f"webhook POST to {self.url} failed ({why})")


def report_failure(sink: AlertSink, message: str) -> None:
    """Keep ``message`` in ``sink.failures`` and print it as a warning on the sink's stream."""
    sink.failures.append(message)
    print(
        f"halfcost: warning: {message}; the alert is still in the event log.",
        file=getattr(sink, "stream", None) or sys.stderr,
        flush=True,
    )


def notify(event: dict[str, Any], sinks: list[AlertSink]) -> list[str]:
    """Send ``event`` to every sink; never raises for a failed delivery.

    Returns:
        one message per failed delivery (empty when all delivered), for the caller to
        record, e.g. in the alert event's ``details``.
    """
    failures: list[str] = []
    for sink in sinks:
        before = len(getattr(sink, "failures", []))
        try:
            sink.send(event)
        except Exception as exc:  # a third-party sink must never stop the monitor
            message = f"{type(sink).__name__} failed ({exc})"
            print(f"halfcost: warning: {message}", file=sys.stderr, flush=True)
            failures.append(message)
            continue
        failures.extend(getattr(sink, "failures", [])[before:])
    return failures
