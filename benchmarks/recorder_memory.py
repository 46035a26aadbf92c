"""Memory with Home Assistant's recorder on: where a flood of reports leaves memory.

Every report changes the call event entity's state, which the recorder writes to its
database (SQLite in the run's temporary folder). RSS is read before a flood, right
after it and once the recorder has had time to commit; a second, smaller flood runs
under tracemalloc, and what it left allocated is grouped by the code that allocated
it (recorder, state machine, bus, integration, the rest).
"""

import ast
import asyncio
import contextlib
from dataclasses import dataclass, field
import functools
import gc
from pathlib import Path
import sqlite3
import sysconfig
import tracemalloc

from homeassistant import core as ha_core
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import async_initialize_recorder, get_instance
from homeassistant.setup import async_setup_component

from .home import Entry, webhook_url
from .loadgen import Job, LoadGenerator
from .stats import median
from .webhook_load import CONCURRENCY, rss_mb

RECORDER = "recorder"
STATE_MACHINE = "state machine"
BUS = "bus"
INTEGRATION = "integration"
OTHER = "other"
GROUPS = (RECORDER, STATE_MACHINE, BUS, INTEGRATION, OTHER)
TOP_LINES = 10
# The recorder's tables a report adds rows to: its bus event, the states it changes.
_TABLES = ("events", "event_data", "states", "state_attributes")
_ROOT = f"{Path(__file__).resolve().parent.parent}/"
_STDLIB = f"{sysconfig.get_paths()['stdlib']}/"
# Not Home Assistant's: the snapshots' own allocations.
_NOT_OURS = (tracemalloc.Filter(False, tracemalloc.__file__),)

# Classes of homeassistant/core.py, by the part of Home Assistant they are.
_CORE_CLASSES = {
    "State": STATE_MACHINE,
    "StateMachine": STATE_MACHINE,
    "States": STATE_MACHINE,
    "CompressedState": STATE_MACHINE,
    "Event": BUS,
    "EventBus": BUS,
    "EventOrigin": BUS,
    "Context": BUS,
}
# Files outside core.py, by the part of Home Assistant they are.
_PATHS = (
    ("/custom_components/yeastar_s_series/", INTEGRATION),
    ("/homeassistant/components/recorder/", RECORDER),
    ("/sqlalchemy/", RECORDER),
    ("/sqlite3/", RECORDER),
    ("/homeassistant/helpers/entity.py", STATE_MACHINE),
    ("/homeassistant/components/event/", STATE_MACHINE),
    ("/homeassistant/util/read_only_dict.py", STATE_MACHINE),
)


@dataclass(slots=True)
class RecorderMemoryResults:
    """RSS around a flood with the recorder on, and where a traced flood's memory went."""

    reports: int
    rate: float  # reports per second asked of the load generator
    achieved: float  # reports per second the flood took, median of its quarters
    traced_achieved: float  # the same of the second traced flood
    rss_before_mb: float
    rss_steps_mb: list[float]  # after each quarter of the flood
    rss_settled_mb: float  # ``settle_s`` after the flood
    settle_s: float
    traced_reports: int  # per traced flood (two: the first refills the caches)
    held_kib: dict[str, float]  # per group, what the two traced floods left allocated
    net_kib: dict[str, float]  # per group, the second traced flood's net growth
    db_rows: dict[str, int]  # rows per table once the flood is settled
    db_mb: float  # the database's files (with its write-ahead log) then
    peak_mib: float  # Python's heap at its highest during the second traced flood
    current_mib: float  # and once settled (both since tracing started)
    top: list[tuple[str, str, float, float]] = field(
        default_factory=list
    )  # line, group, KiB held, KiB net

    @property
    def growth_mb(self) -> float:
        """RSS once settled minus RSS before."""
        return self.rss_settled_mb - self.rss_before_mb


def database(config_dir: Path) -> Path:
    """Return where the recorder keeps its database in the run's folder."""
    return config_dir / "home-assistant_v2.db"


def _table_rows(path: Path) -> dict[str, int]:
    """Count the rows of the tables a report adds to (read-only, beside the recorder)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in _TABLES
        }


async def start_recorder(hass: HomeAssistant, config_dir: Path) -> None:
    """Set up the recorder on SQLite in the run's folder and wait until it is ready."""
    db_url = f"sqlite:///{database(config_dir)}"
    async_initialize_recorder(hass)  # what bootstrap does before any set-up
    if not await async_setup_component(hass, RECORDER, {RECORDER: {"db_url": db_url}}):
        raise RuntimeError("recorder did not set up")
    if not await get_instance(hass).async_db_ready:
        raise RuntimeError("the recorder's database is not ready")


@functools.cache
def _core_class_lines() -> list[tuple[int, int, str]]:
    """(first line, last line, group) of core.py's classes that are a group's."""
    tree = ast.parse(Path(ha_core.__file__).read_text())
    return [
        (node.lineno, node.end_lineno or node.lineno, _CORE_CLASSES[node.name])
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name in _CORE_CLASSES
    ]


def group_of(filename: str, lineno: int) -> str:
    """Name the part of Home Assistant that allocated at ``filename:lineno``."""
    if filename == ha_core.__file__:
        for first, last, group in _core_class_lines():
            if first <= lineno <= last:
                return group
        return OTHER
    for part, group in _PATHS:
        if part in filename:
            return group
    return OTHER


def _short(filename: str) -> str:
    """Cut site-packages, the stdlib or the repository off a path."""
    if "site-packages/" in filename:
        return filename.rpartition("site-packages/")[2]
    for prefix in (_ROOT, _STDLIB):
        if filename.startswith(prefix):
            return filename.removeprefix(prefix)
    return filename


class RecorderMemory:
    """Flood one loaded entry at a steady rate, with the recorder recording every state."""

    def __init__(
        self,
        hass: HomeAssistant,
        port: int,
        entry: Entry,
        loadgen: LoadGenerator,
        config_dir: Path,
    ) -> None:
        """Bind to a loaded entry; the recorder must be set up in ``config_dir``."""
        self.hass = hass
        self.database = database(config_dir)
        self.entry = entry
        self.loadgen = loadgen
        self.url = webhook_url(port, entry.webhook_id)
        self._batch = 0

    async def _flood(self, count: int, rate: float) -> float:
        """Post ``count`` reports at ``rate``; return the rate Home Assistant took."""
        self._batch += 1
        job = Job(
            url=self.url,
            serial=self.entry.pbx.serial,
            tag=f"r{self._batch}",
            count=count,
            concurrency=CONCURRENCY,
            rate=rate,
            timings=False,
        )
        result = await self.loadgen.run(job)
        if set(result.statuses) != {"200"}:
            raise RuntimeError(f"the flood was answered {result.statuses}")
        await self.hass.async_block_till_done()
        await get_instance(self.hass).async_block_till_done()
        return count / result.elapsed

    async def _settled(self, settle: float) -> None:
        """Give the recorder ``settle`` seconds (its commits), then collect garbage."""
        await asyncio.sleep(settle)
        await get_instance(self.hass).async_block_till_done()
        gc.collect()

    async def run(
        self, reports: int, rate: float, settle: float, traced: int
    ) -> RecorderMemoryResults:
        """Warm up, flood and read RSS, then flood twice more under tracemalloc.

        tracemalloc sees only what is allocated after it starts: the first traced flood
        replaces the caches' untraced entries, so that the second one's net growth is
        real growth, while what both left allocated shows who holds recent reports.
        """
        await self._flood(max(100, min(2000, reports // 10)), rate)
        await self._settled(0)
        before = rss_mb()
        steps: list[float] = []
        rates: list[float] = []
        for index in range(4):
            rates.append(await self._flood(reports // 4 + (index < reports % 4), rate))
            gc.collect()
            steps.append(rss_mb())
        await self._settled(settle)
        settled = rss_mb()
        rows = await self.hass.async_add_executor_job(_table_rows, self.database)
        files = self.database.parent.glob(f"{self.database.name}*")
        db_mb = sum(path.stat().st_size for path in files) / 2**20

        tracemalloc.start()
        try:
            await self._flood(traced, rate)
            await self._settled(settle)
            first = tracemalloc.take_snapshot().filter_traces(_NOT_OURS)
            tracemalloc.reset_peak()
            traced_rate = await self._flood(traced, rate)
            await self._settled(settle)
            current, peak = tracemalloc.get_traced_memory()
            last = tracemalloc.take_snapshot().filter_traces(_NOT_OURS)
        finally:
            tracemalloc.stop()
        held, net, top = _grouped(last.compare_to(first, "lineno"))
        return RecorderMemoryResults(
            reports=reports,
            rate=rate,
            achieved=median(rates),
            traced_achieved=traced_rate,
            rss_before_mb=before,
            rss_steps_mb=steps,
            rss_settled_mb=settled,
            settle_s=settle,
            traced_reports=traced,
            db_rows=rows,
            db_mb=db_mb,
            held_kib=held,
            net_kib=net,
            peak_mib=peak / 2**20,
            current_mib=current / 2**20,
            top=top,
        )


def _grouped(
    stats: list[tracemalloc.StatisticDiff],
) -> tuple[dict[str, float], dict[str, float], list[tuple[str, str, float, float]]]:
    """KiB held and net KiB per group, and the lines that hold the most."""
    held = dict.fromkeys(GROUPS, 0.0)
    net = dict.fromkeys(GROUPS, 0.0)
    lines: list[tuple[str, str, float, float]] = []
    for stat in stats:
        frame = stat.traceback[0]
        name = group_of(frame.filename, frame.lineno)
        held[name] += stat.size / 1024
        net[name] += stat.size_diff / 1024
        where = f"{_short(frame.filename)}:{frame.lineno}"
        lines.append((where, name, stat.size / 1024, stat.size_diff / 1024))
    lines.sort(key=lambda line: line[2], reverse=True)
    return held, net, lines[:TOP_LINES]
