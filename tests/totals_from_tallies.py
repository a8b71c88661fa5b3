"""The rollups' totals computed from scratch: what tests hold the store's kept-on-write sums and scores to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.coach.kinds import LIGHT_KINDS, PUSHED_KINDS, Kind
from bot.coach.scoring import Tally
from bot.coach.totals import (
    BREADTH,
    COUNT_COLUMNS,
    COUNTERS,
    LIGHT,
    PUSHED,
    RECEIVED_COLUMN,
    Family,
    MemberTotals,
    group_sums,
)


def totals_from_tallies(tallies: Iterable[Tally], received: Mapping[str, int]) -> list[MemberTotals]:
    """Fold fine-grained tallies into totals: what the store's rollups hold, computed from scratch."""
    sums: dict[str, dict[str, int]] = {}
    groups: dict[tuple[str, Family, object], dict[Kind, int]] = {}
    for tally in tallies:
        member = sums.setdefault(tally.user_id, dict.fromkeys(COUNTERS, 0))
        member[COUNT_COLUMNS[tally.kind]] += tally.count
        if tally.kind in LIGHT_KINDS:
            key: tuple[str, Family, object] = (tally.user_id, LIGHT, tally.day)
        elif tally.kind in PUSHED_KINDS:
            key = (tally.user_id, PUSHED, (tally.day, tally.hour))
        else:
            key = (tally.user_id, BREADTH, tally.counterpart)
        group = groups.setdefault(key, {})
        group[tally.kind] = group.get(tally.kind, 0) + tally.count
    for (user_id, family, where), counts in groups.items():
        for name, value in group_sums(family, counts, unknown=family is BREADTH and where == "").items():
            sums[user_id][name] += value
    for user_id, n in received.items():
        sums.setdefault(user_id, dict.fromkeys(COUNTERS, 0))[RECEIVED_COLUMN] += n
    return [MemberTotals(user_id, tuple(member[name] for name in COUNTERS)) for user_id, member in sums.items()]
