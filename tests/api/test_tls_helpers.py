"""Fingerprint handling that needs no server."""

import pytest

from custom_components.yeastar_s_series.api import normalize_fingerprint

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    "spelling",
    [
        DIGEST,
        DIGEST.upper(),
        ":".join(DIGEST[i : i + 2] for i in range(0, 64, 2)).upper(),
        " ".join(DIGEST[i : i + 2] for i in range(0, 64, 2)),
        f"  {DIGEST}  ",
    ],
    ids=["lower", "upper", "colons", "spaces", "padded"],
)
def test_normalize_accepts_common_spellings(spelling: str) -> None:
    """Browsers and openssl print fingerprints as AB:CD:...; all mean the same digest."""
    assert normalize_fingerprint(spelling) == DIGEST


@pytest.mark.parametrize(
    "bad",
    [
        "",
        DIGEST[:-2],
        DIGEST + "00",
        DIGEST[:-1] + "g",
        "sha256:" + DIGEST,
        DIGEST[:40],  # a SHA-1 fingerprint
        "-" * 64,
        "é" * 64,
    ],
)
def test_normalize_rejects_bad_input(bad: str) -> None:
    """Anything but 64 hex digits is refused with ValueError."""
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        normalize_fingerprint(bad)
