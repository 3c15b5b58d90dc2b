"""The error pages (400, 403, 404, 500): Brazilian Portuguese wording, and the 500 page rendered the
way Django renders it after a failure (no request context, no context processor, no database)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.template import loader
from django.test import RequestFactory
from django.views import defaults

PAGES = {
    400: ("Pedido inválido", "Não foi possível entender o pedido."),
    403: ("Acesso negado", "Você não tem permissão para ver esta página."),
    404: ("Página não encontrada", "O endereço aberto não existe. Confira o link ou recomece do início."),
    500: ("Algo deu errado", "O erro foi registrado. Tente de novo em alguns minutos."),
}


def failing_context_processor(request):
    raise AssertionError("the error pages use no context processor")


def assert_error_page(html: str, status: int) -> None:
    title, message = PAGES[status]
    text = unescape(html)
    assert '<html lang="pt-BR">' in text
    assert re.search(r"<title>\s*" + re.escape(title) + r"\s*</title>", text), text
    assert re.search(r"<h1>\s*" + re.escape(title) + r"\s*</h1>", text), text
    assert re.search(r"<p>\s*" + re.escape(message) + r"\s*</p>", text), text
    assert '<a href="/">Voltar ao início</a>' in text
    assert "/static/cobranca/error.css" in text
    assert "{%" not in text and "{{" not in text
    other_titles = [other for code, (other, _) in PAGES.items() if code != status]
    assert not any(other in text for other in other_titles)


@pytest.fixture
def without_context_processors(settings):
    """Any context processor that ran would fail the rendering."""
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": ["tests.test_error_pages.failing_context_processor"],
            },
        }
    ]


def test_the_500_page_renders_without_request_context_processors_or_database(without_context_processors):
    """Not marked for the database: any query would fail the test."""
    request = RequestFactory().get("/somewhere/")
    response = defaults.server_error(request)
    assert response.status_code == 500
    assert_error_page(response.content.decode(), 500)
    assert_error_page(loader.get_template("500.html").render(), 500)


@pytest.mark.parametrize(
    ("status", "view", "exception"),
    [
        (400, defaults.bad_request, SuspiciousOperation("bad")),
        (403, defaults.permission_denied, PermissionDenied()),
        (404, defaults.page_not_found, Http404()),
    ],
)
def test_each_error_page_has_its_own_title_and_message(status, view, exception):
    response = view(RequestFactory().get("/somewhere/"), exception)
    assert response.status_code == status
    assert_error_page(response.content.decode(), status)


@pytest.mark.django_db
def test_an_unknown_address_answers_the_404_page(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 404
    assert_error_page(response.content.decode(), 404)
