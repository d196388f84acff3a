"""DRF's JSON renderer, encoding with orjson.

The same bytes as `rest_framework.renderers.JSONRenderer` with the project's settings (compact,
UTF-8, `\\u2028` and `\\u2029` escaped), from a C encoder (its gain on the transaction list is in
bench/README.md). Every value orjson does not encode the way DRF's encoder does (dates, times,
decimals, UUIDs, lazy strings, querysets...) still goes through DRF's own encoder, and anything
orjson refuses (an integer beyond 64 bits, a key that is not a string or number, nesting deeper
than 254 levels), or a request for indented output, falls back to DRF's renderer whole. One difference is left: a float NaN or infinity becomes `null` where DRF's
strict encoder would fail; no Cashman answer holds a float (money is a decimal string).
"""

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
# DRF escapes these two for pages that embed the JSON in a script; so does this renderer.
_LINE_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))


class JSONRenderer(renderers.JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        if self.get_indent(accepted_media_type or "", renderer_context) or not (
            self.compact and self.ensure_ascii is False
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in rendered:
                rendered = rendered.replace(raw, escaped)
        return rendered
