"""Prometheus metrics, kept in one registry per application instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every metric the platform exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "queue_jobs",
            "Jobs in the queue by status",
            ["status"],
            registry=self.registry,
        )
        self.queue_oldest_age = Gauge(
            "queue_oldest_ready_job_age_seconds",
            "Age of the oldest job that is ready to run",
            registry=self.registry,
        )
        self.job_outcomes = Counter(
            "jobs_processed",
            "Job runs by kind and outcome (done, retry, dead, snoozed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "job_duration_seconds",
            "Job run time by kind",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inbound_messages = Counter(
            "inbound_messages",
            "Inbound channel messages by channel and outcome (accepted, duplicate, rejected)",
            ["channel", "outcome"],
            registry=self.registry,
        )

        self.billing_usage = Counter(
            "billing_usage",
            "Metered usage settled, by plan and feature (messages, tokens, minutes, ...)",
            ["plan", "feature"],
            registry=self.registry,
        )
        self.billing_overage = Counter(
            "billing_overage",
            "Usage beyond a quota on plans that allow overage, by plan and feature",
            ["plan", "feature"],
            registry=self.registry,
        )
        self.billing_refusals = Counter(
            "billing_refusals",
            "Requests refused by the plan, by plan, feature and reason (quota, feature)",
            ["plan", "feature", "reason"],
            registry=self.registry,
        )
        self.billing_alerts = Counter(
            "billing_alerts",
            "Usage alerts raised, by plan, feature and threshold (80, 100)",
            ["plan", "feature", "threshold"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
