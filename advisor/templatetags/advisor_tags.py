from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ mapping|get_item:key }}`: a dict lookup with a variable key."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]()<>#+!|~"})


@register.filter
def markdown_text(value) -> str:
    """Text made inert in Markdown: one line, with link, emphasis and HTML syntax escaped.

    For text a visitor typed (a title) or data that is not ours to format, so that an
    ADR shows it as written and can never gain a link, a heading or markup from it.
    """
    return " ".join(str(value).split()).translate(MARKDOWN_SPECIAL)


@register.filter
def markdown_code(value) -> str:
    """Text for a Markdown code span: one line, and no backtick that could end it."""
    return " ".join(str(value).split()).replace("`", "'")


PROPER_NOUNS = {"Kafka", "Kafka's", "Artemis", "JMS", "XA", "AMQP", "MQTT", "Strimzi"}


@register.filter
def lower_first(text: str) -> str:
    """'The broker writes…' -> 'the broker writes…' (to follow 'because'), keeping names."""
    first, _, rest = str(text).partition(" ")
    if first in PROPER_NOUNS or (len(first) > 1 and first.isupper()):
        return text
    return f"{first[:1].lower()}{first[1:]} {rest}".rstrip()


FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


@register.filter
def isolate(value) -> str:
    """`{{ title|isolate }}`: a user's text in Unicode isolates, where <bdi> cannot go (<title>).

    Its direction is its own (a right-to-left title reads right to left) and nothing in it,
    not even a right-to-left override, reorders the text around it.
    """
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}"
