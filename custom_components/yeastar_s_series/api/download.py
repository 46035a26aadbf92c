"""Files the PBX serves once: call records (CSV) and call recordings.

A download takes a random string that `…/get_random` gave (valid 30 s, good for
one download) and the token, both in the URL. A refused download answers with
the API's JSON error instead of the file; the first bytes tell which.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
import json

from .exceptions import YeastarResponseError

CHUNK_SIZE = 64 * 1024


@dataclass(slots=True)
class Download:
    """A file on its way from the PBX: its type, its size if known, its bytes."""

    content_type: str
    size: int | None
    chunks: AsyncIterator[bytes]

    async def read(self, limit: int) -> bytes:
        """Read the whole file, refusing one larger than `limit` bytes."""
        content = bytearray()
        async for chunk in self.chunks:
            content += chunk
            if len(content) > limit:
                raise YeastarResponseError("The PBX sent a larger file than expected")
        return bytes(content)


def is_api_answer(first: bytes) -> bool:
    """Say whether a download's first bytes are the API's JSON answer, not a file."""
    if not first.lstrip().startswith(b"{"):
        return False
    try:
        answer = json.loads(first)
    except ValueError:
        return False
    return isinstance(answer, dict) and "status" in answer
