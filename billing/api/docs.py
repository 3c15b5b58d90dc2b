"""A readable page of the OpenAPI schema, rendered on the server: no JavaScript, no external assets.

Swagger UI and Redoc load scripts from a CDN (or need drf-spectacular-sidecar); the content
security policy allows neither, and gateways' integrators only need the fields and answers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import engines
from drf_spectacular.generators import SchemaGenerator

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ info.title }}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1d2125}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
.op{border:1px solid #d0d7de;border-radius:6px;margin:1.2rem 0;padding:.2rem 1rem 1rem}
.method{background:#0a58ca;color:#fff;border-radius:4px;padding:1px 8px;font-weight:600}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{ info.title }} <small>{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>Machine-readable schema: <a href="{{ schema_url }}">{{ schema_url }}</a> (YAML) ·
<a href="{{ schema_url }}?format=json">JSON</a></p>
{% for op in operations %}
<section class="op" id="{{ op.operation_id }}">
<h2><span class="method">{{ op.method|upper }}</span> <code>{{ op.path }}</code></h2>
<p><strong>{{ op.summary }}</strong></p><p>{{ op.description }}</p>
{% if op.parameters %}<h3>Path parameters</h3><table>
{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.schema.type }}</td>
<td>{{ p.description }}</td></tr>{% endfor %}
</table>{% endif %}
{% if op.fields %}<h3>Request body <code>{{ op.media_type }}</code></h3><table>
<tr><th>field</th><th>type</th><th>required</th><th>max length</th><th>meaning</th></tr>
{% for f in op.fields %}<tr><td><code>{{ f.name }}</code></td><td>{{ f.type }}</td>
<td>{{ f.required|yesno:"yes,no" }}</td>
<td>{{ f.max_length|default:"" }}</td><td>{{ f.description }}</td></tr>{% endfor %}
</table>{% endif %}
<h3>Responses (JSON)</h3><table>
{% for r in op.responses %}<tr><td><code>{{ r.code }}</code></td><td>{{ r.description }}</td></tr>{% endfor %}
</table>
</section>
{% endfor %}
</body></html>"""


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return node


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each path and method with its form fields and responses, flattened for the template."""
    found: list[dict[str, Any]] = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            content: dict[str, Any] = op.get("requestBody", {}).get("content", {})
            media_type, body = next(iter(content.items()), ("", {"schema": {}}))
            body_schema: dict[str, Any] = _resolve(schema, body.get("schema") or {})
            required = set(body_schema.get("required", []))
            fields = [
                {
                    "name": name,
                    "type": prop.get("type", ""),
                    "required": name in required,
                    "max_length": prop.get("maxLength"),
                    "description": prop.get("description", ""),
                }
                for name, prop in body_schema.get("properties", {}).items()
            ]
            found.append(
                {
                    "path": path,
                    "method": method,
                    "operation_id": op.get("operationId", ""),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "media_type": media_type,
                    "fields": fields,
                    "responses": [
                        {"code": code, "description": response.get("description", "")}
                        for code, response in op.get("responses", {}).items()
                    ],
                }
            )
    return found


def docs_view(request: HttpRequest, *, patterns: list[Any], schema_url: str) -> HttpResponse:
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    template = engines["django"].from_string(PAGE)
    context = {"info": schema.get("info", {}), "operations": operations(schema), "schema_url": schema_url}
    return HttpResponse(template.render(context, request))
