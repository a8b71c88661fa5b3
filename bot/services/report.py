"""`python -m bot report`: a team's tallies for a period, as JSON for scripts or as a table for people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.coach.kinds import Kind
from bot.coach.periods import PeriodName
from bot.deps import Deps
from bot.services.standings import team_standings
from bot.services.teams import team_settings
from bot.store.models import Team

# (JSON key, kinds it counts); "posts" is own posts plus links shared in Slack.
COUNTED: tuple[tuple[str, tuple[Kind, ...]], ...] = (
    ("posts", (Kind.POST, Kind.LINK)),
    ("replies", (Kind.REPLY,)),
    ("comments", (Kind.COMMENT,)),
    ("answers", (Kind.ANSWER,)),
    ("shares", (Kind.SHARE,)),
    ("likes", (Kind.LIKE,)),
    ("follows", (Kind.FOLLOW,)),
)


class ReportError(Exception):
    """The report cannot be made as asked; the message says what to do instead."""


def team_report(deps: Deps, team_id: str | None, period: PeriodName) -> dict[str, Any]:
    """The report for `team_id`, or for the only team there is when it is None."""
    with deps.db.session() as session:
        teams = {team.id: team for team in session.scalars(select(Team).order_by(Team.id))}
        if team_id is None:
            if not teams:
                raise ReportError(
                    "There are no teams in this database yet. Install the bot in Slack, or try the sample: "
                    "python -m bot import-export --sample"
                )
            if len(teams) > 1:
                raise ReportError(f"This database holds several teams; pick one with --team: {', '.join(teams)}")
            team_id = next(iter(teams))
        team = teams.get(team_id)
        if team is None:
            known = ", ".join(teams) or "none yet"
            raise ReportError(f"There is no team {team_id!r} in this database (teams: {known}).")
        standings = team_standings(session, team_id, period, deps.now(), team_settings(team))
    members = [
        {
            "user_id": member.user_id,
            "rank": member.rank,
            "score": round(member.score, 2),
            **{key: sum(member.counts[kind] for kind in kinds) for key, kinds in COUNTED},
            "received": member.received,
            "ratio": None if member.ratio is None else round(member.ratio, 2),
        }
        for member in standings.members
    ]
    return {"team": team_id, "period": period.value, "members": members}


def report_text(report: dict[str, Any]) -> str:
    """A table people can read in a terminal, best first."""
    columns = ("rank", "user_id", "score", *(key for key, _ in COUNTED), "received", "ratio")
    title = f"More Social — team {report['team']}, period: {report['period']}"
    if not report["members"]:
        return f"{title}\nNobody has any activity in this period yet."

    def cell(member: dict[str, Any], column: str) -> str:
        value = member[column]
        if column == "ratio":
            return "—" if value is None else f"{value:.1f}:1"
        if column == "score":
            return f"{value:.1f}"
        return str(value)

    rows = [[cell(member, column) for column in columns] for member in report["members"]]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            text.ljust(width) if column == "user_id" else text.rjust(width)
            for text, width, column in zip(cells, widths, columns, strict=True)
        ).rstrip()

    return "\n".join([title, line(list(columns)), *(line(row) for row in rows)])
