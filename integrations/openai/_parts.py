"""OpenAI message content as OTel GenAI parts, shared by Chat Completions and Responses.

Both APIs take a message's content as a string or a list of typed blocks (``text`` /
``input_text`` / ``output_text``, ``image_url`` / ``input_image``, ``input_audio``, ``file`` /
``input_file``, ``refusal``). Images given inline as ``data:`` URLs become ``blob`` parts
without their bytes: megabytes of base64 are not worth a trace row, and the media type says
what was sent.
"""

from __future__ import annotations

from spyglass.integrations._sdk_extract import get, sequence, text_part

_TEXT_KEYS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal"}


def content_parts(content: object, capture: bool) -> list[dict[str, object]]:
    """The parts of one message's ``content``."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content, capture)]
    parts: list[dict[str, object]] = []
    for block in sequence(content):
        if isinstance(block, str):
            parts.append(text_part(block, capture))
            continue
        kind = get(block, "type")
        if isinstance(kind, str) and kind in _TEXT_KEYS:
            parts.append(text_part(get(block, _TEXT_KEYS[kind]), capture))
        elif kind in ("image_url", "input_image"):
            parts.append(_image_part(block, capture))
        elif kind == "input_audio":
            audio = get(block, "input_audio")
            parts.append({"type": "blob", "modality": "audio", "mime_type": _audio(audio)})
        elif kind in ("file", "input_file"):
            file = get(block, "file") or block
            parts.append({"type": "file", "file_id": get(file, "file_id")})
        else:
            parts.append({"type": str(kind)})
    return parts


def _image_part(block: object, capture: bool) -> dict[str, object]:
    image = get(block, "image_url")
    url = image if isinstance(image, str) else get(image, "url")
    if isinstance(url, str) and url.startswith("data:"):
        mime = url[5 : url.find(";")] if ";" in url else None
        return {"type": "blob", "modality": "image", "mime_type": mime}
    if isinstance(url, str):
        return {"type": "uri", "modality": "image", "uri": url} if capture else {"type": "uri"}
    return {"type": "file", "modality": "image", "file_id": get(block, "file_id")}


def _audio(audio: object) -> str | None:
    fmt = get(audio, "format")
    return f"audio/{fmt}" if isinstance(fmt, str) else None


def text_of(content: object) -> object:
    """A tool result's content as text when it is made of text blocks (else as given)."""
    if isinstance(content, str) or content is None:
        return content
    blocks = sequence(content)
    texts = [get(block, "text") for block in blocks]
    if blocks and all(isinstance(text, str) for text in texts):
        return "".join(str(text) for text in texts)
    return content
