"""PNG text chunks for the Python test checkers (one reader for all)."""
import struct


def png_texts(path):
    """The uncompressed tEXt and iTXt chunks of a PNG, as a dict."""
    texts = {}
    with open(path, "rb") as f:
        data = f.read()
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            rest = rest[2:]  # compression flag and method: none
            _, _, rest = rest.partition(b"\0")  # language
            _, _, value = rest.partition(b"\0")  # translated keyword
            texts[key.decode("latin-1")] = value.decode("utf-8")
        pos += 12 + length
    return texts
