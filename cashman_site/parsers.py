"""Request parsers: DRF's JSON parser, made safe against a body nested too deep."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP_MESSAGE = "JSON parse error - the document is nested too deeply."


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, but a document nested deeper than Python's recursion limit (a few
    kilobytes of `[` are enough) is a 400 like any other malformed JSON: the standard library
    raises RecursionError for it, which DRF does not catch, so it was a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(TOO_DEEP_MESSAGE) from exc
