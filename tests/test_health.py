"""GET /health/: database and broker status, ages of the periodic jobs, cheap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError
from django.utils import timezone

from billing.models import Lease
from config import health

pytestmark = pytest.mark.django_db


def test_healthy_with_no_periodic_job_ever_run(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "database": "ok",
        "broker": "ok",
        "last_sweep_age_seconds": None,
        "last_reconciliation_age_seconds": None,
    }


def test_reports_the_age_of_the_last_sweep_and_reconciliation(client):
    now = timezone.now()
    Lease.objects.create(name="sweep", expires_at=now, last_finished_at=now - dt.timedelta(seconds=90))
    Lease.objects.create(name="reconciliation", expires_at=now, last_finished_at=now - dt.timedelta(hours=2))
    Lease.objects.create(name="something-else", expires_at=now, last_finished_at=now)

    body = client.get("/health/").json()

    assert 90 <= body["last_sweep_age_seconds"] < 120
    assert 7200 <= body["last_reconciliation_age_seconds"] < 7230


def test_a_lease_that_never_finished_reports_null(client):
    Lease.objects.create(name="sweep", expires_at=timezone.now(), last_finished_at=None)

    assert client.get("/health/").json()["last_sweep_age_seconds"] is None


def test_broker_down_answers_503(client, monkeypatch):
    monkeypatch.setattr(health, "broker_ok", lambda: False)

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert response.json()["database"] == "ok"


def test_database_down_answers_503(client, monkeypatch):
    def broken():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health, "_lease_ages", broken)

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["last_sweep_age_seconds"] is None


def test_filesystem_broker_checks_that_its_folder_is_writable(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    assert health.broker_ok() is True

    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "missing")}
    assert health.broker_ok() is False


def test_unreachable_redis_is_an_error_within_the_timeout(settings):
    # Port 9 (discard) is closed on loopback: the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    started = timezone.now()

    assert health.broker_ok() is False
    assert (timezone.now() - started).total_seconds() < 5


def test_only_get_is_allowed(client):
    assert client.post("/health/").status_code == 405
