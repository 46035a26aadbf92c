"""Errors raised by the Yeastar S-Series API client.

Messages never contain the token, the password or its hash: request URLs carry
the token, so no URL or library error text is ever put into a message.
"""


class YeastarError(Exception):
    """Base class for every error of the client."""


class YeastarConnectionError(YeastarError):
    """The PBX could not be reached, or it did not answer in time."""


class YeastarConnectionRefusedError(YeastarConnectionError):
    """Nothing listens on the port: the PBX is down, the port is wrong or the API is off."""


class YeastarLoginUnansweredError(YeastarConnectionError):
    """The PBX's event port closed the connection right after the login, saying nothing.

    Perhaps a refused password, perhaps not: the documents do not say.
    """


class YeastarTimeoutError(YeastarConnectionError):
    """The PBX did not answer within the request timeout."""


class YeastarTlsError(YeastarConnectionError):
    """The TLS handshake failed: untrusted or changed certificate."""


class YeastarCertificateChangedError(YeastarTlsError):
    """The PBX showed a certificate other than the pinned one; nothing was sent."""


class YeastarApiUnavailableError(YeastarError):
    """The PBX answers, but its API service is disabled or not running."""


class YeastarResponseError(YeastarError):
    """The PBX answered something the API documents never describe."""


class YeastarRequestError(YeastarError):
    """The PBX refused a request with an error number (errno)."""

    def __init__(self, errno: str, message: str | None = None) -> None:
        """Keep the error number so callers can tell the cases apart."""
        super().__init__(message or f"The PBX refused the request (errno {errno})")
        self.errno = errno


class YeastarAuthenticationError(YeastarRequestError):
    """Login refused; retrying on its own would lock the caller out."""


class YeastarInvalidAuthError(YeastarAuthenticationError):
    """Wrong username or password (errno 20003)."""


class YeastarLockedOutError(YeastarAuthenticationError):
    """The caller's IP is locked after five wrong passwords (errno 20002)."""


class YeastarTokenError(YeastarRequestError):
    """The token is unknown, blank or timed out (errno 20004, 20005, 20006): log in again."""


class YeastarUnsupportedError(YeastarError):
    """The API version (or what is known of the call) allows no request for it."""


class ReportParseError(YeastarError):
    """An event report body is not a report the PBX could have sent."""
