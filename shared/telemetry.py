"""OpenTelemetry set-up and the W3C trace context that travels in event metadata and NATS headers.

One trace follows a command: the HTTP span, the append, the relay's publish span (a child of the
traceparent stored with the event) and every consumer's apply span (a child of the NATS header).
"""

import json
import logging
import os
import sys
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from shared.settings import Settings

_configured = False


def setup_telemetry(settings: Settings, *, extra_processor: SpanProcessor | None = None) -> None:
    """Install a tracer provider once per process: OTLP if configured, else console/file if asked."""
    global _configured
    setup_logging(settings)
    if _configured:
        return
    if not (settings.otlp_endpoint or settings.trace_file or settings.trace_console or extra_processor):
        # Nothing would receive a span: leave OpenTelemetry's no-op provider in place. FastAPI then opens
        # no request span and the store no append span (together a quarter of a directory command's CPU);
        # a command still carries the trace context a client sent (``shared.http.command_context``).
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"thidua-{settings.service}"}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    elif settings.trace_file:
        out = RotatingFile(settings.trace_file, settings.trace_file_max_bytes)
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=out)))  # type: ignore[arg-type]
    elif settings.trace_console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    _configured = True


class RotatingFile:
    """A text file that starts afresh past ``max_bytes``, keeping the previous one as ``<name>.1``."""

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path, self.max_bytes = path, max_bytes
        self._file = open(path, "a", encoding="utf-8")

    def write(self, text: str) -> int:
        if self._file.tell() + len(text) > self.max_bytes:
            self._file.close()
            os.replace(self.path, self.path + ".1")
            self._file = open(self.path, "a", encoding="utf-8")
        return self._file.write(text)

    def flush(self) -> None:
        self._file.flush()


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_headers() -> dict[str, str]:
    """The active span's context as W3C headers (``traceparent`` and, if any, ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(carrier or {}))


def continue_incoming(traceparent: str | None, tracestate: str | None) -> object | None:
    """Make a client's trace context current when this process records no span of its own, so the events
    a command stores still carry it on; a token to ``detach`` (None if nothing was attached)."""
    if not traceparent or trace.get_current_span().get_span_context().is_valid:
        return None
    carrier = {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}
    return otel_context.attach(propagate.extract(carrier))


def detach(token: object | None) -> None:
    if token is not None:
        otel_context.detach(token)  # type: ignore[arg-type]


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_thidua", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._thidua = True  # type: ignore[attr-defined]
    handler.setFormatter(
        _JsonFormatter() if settings.log_json else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
