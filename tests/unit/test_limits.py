"""Length limits: read from the model's columns, and cuts that keep identities apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.coach.messages import MAX_SOURCE_KEY_LENGTH
from bot.store.limits import REACTION_NAME, SOURCE_KEY, fit, fit_key


def test_the_domain_keeps_source_keys_within_the_column() -> None:
    assert MAX_SOURCE_KEY_LENGTH == SOURCE_KEY


def test_a_short_value_is_kept_as_it_is() -> None:
    assert fit("ana", 3) == "ana" and fit(None, 3) is None and fit_key("tada", REACTION_NAME) == "tada"
    assert fit("anabel", 3) == "ana"


@given(st.text(min_size=1, max_size=400), st.text(min_size=1, max_size=400))
def test_a_stable_cut_fits_and_keeps_different_values_apart(a: str, b: str) -> None:
    assert len(fit_key(a, REACTION_NAME)) <= REACTION_NAME
    assert fit_key(a, REACTION_NAME) == fit_key(a, REACTION_NAME)
    assert (fit_key(a, REACTION_NAME) == fit_key(b, REACTION_NAME)) == (a == b)
