"""Credentials and report target the client tests share with the simulated PBX."""

from custom_components.yeastar_s_series.api import ReportTarget, hash_password

PASSWORD = "secret"
PASSWORD_HASH = hash_password(PASSWORD)
# Where the PBX is told to post reports; nothing listens there in these tests.
TARGET = ReportTarget("127.0.0.1", 8260, "yeastar/report")
