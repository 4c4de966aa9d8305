"""Properties of the official tables (CALPAE.md §5.1, §5.2, §9.1) on generated data."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.tables import (
    Block,
    BudgetLine,
    Envelope,
    RowKind,
    Rule,
    TableHeading,
    ThemeInput,
    build_execution_table,
    build_planned_table,
    carry_over_findings,
)

HEADING = TableHeading(
    year=2022, department_code="77", department_of_name="de Seine-et-Marne", region_name="IDF"
)
ZERO = Decimal("0.00")
FUNDING = ("A", "B", "C", "D", "E")
BUILDERS = {"execution": build_execution_table, "planned": build_planned_table}
SETTINGS = settings(max_examples=100, deadline=None, database=None)

cents = st.integers(min_value=0, max_value=1_000_000_000).map(lambda c: Decimal(c).scaleb(-2))
amounts = st.none() | cents


@st.composite
def themes_st(draw) -> list[ThemeInput]:
    keys = draw(
        st.lists(
            st.text(alphabet="abcdefghij", min_size=1, max_size=4),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    themes = []
    for index, key in enumerate(keys):
        placeholders = tuple(
            (f"{index + 1}.{j + 1}", f"Action prévue {j + 1}")
            for j in range(draw(st.integers(min_value=0, max_value=2)))
        )
        themes.append(
            ThemeInput(
                key=key,
                label=f"Thème {key}",
                block=draw(st.sampled_from(Block)),
                position=draw(st.integers(min_value=0, max_value=8)),
                chorus=f"0304 50 19 19 {index:02d}",
                placeholders=placeholders,
            )
        )
    return themes


@st.composite
def line_st(draw, *, action_key: str, number: str, theme_key: str) -> BudgetLine:
    line = BudgetLine(
        action_key=action_key,
        theme_key=theme_key,
        number=number,
        title=f"Action {action_key}",
        state_new=draw(amounts),
        state_carried_over=draw(amounts),
        cd_new=draw(amounts),
        valorisation=draw(amounts),
        cd_carried_over=draw(amounts),
        other_funding=draw(amounts),
        realised=draw(amounts),
        carry_over_state=draw(amounts),
        carry_over_cd=draw(amounts),
        comment=draw(st.sampled_from(["", "solde après contrôle du service fait"])),
    )
    if draw(st.booleans()):
        # A declared budget global equal to A+B+C+D+E.
        line = replace(line, declared_total=line.total)
    return line


@st.composite
def lines_st(draw, theme_keys: list[str]) -> list[BudgetLine]:
    size = draw(st.integers(min_value=0, max_value=25))
    numbers = draw(
        st.lists(
            st.tuples(st.integers(1, 9), st.integers(1, 15)),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    action_ids = draw(st.lists(st.integers(0, 999), min_size=size, max_size=size, unique=True))
    return [
        draw(
            line_st(
                action_key=f"action-{action_id}",
                number=f"{major}.{minor}",
                theme_key=draw(st.sampled_from(theme_keys)),
            )
        )
        for (major, minor), action_id in zip(numbers, action_ids, strict=True)
    ]


@st.composite
def table_input_st(draw) -> dict:
    themes = draw(themes_st())
    theme_keys = [theme.key for theme in themes]
    lines = draw(lines_st(theme_keys))
    envelopes = [
        Envelope(
            theme_keys=frozenset(draw(st.lists(st.sampled_from(theme_keys), min_size=1))),
            amount=draw(cents),
            label=f"Enveloppe {index}",
        )
        for index in range(draw(st.integers(0, 2)))
    ]
    return {
        "themes": themes,
        "lines": lines,
        "state_credit": draw(amounts),
        "envelopes": envelopes,
    }


def _value(amount: Decimal | None) -> Decimal:
    return ZERO if amount is None else amount


def _sum(rows, key) -> Decimal:
    return sum((_value(row.amounts[key]) for row in rows), ZERO)


def _build(kind: str, data: dict):
    return BUILDERS[kind](heading=HEADING, **data)


kinds = st.sampled_from(sorted(BUILDERS))


@SETTINGS
@given(kind=kinds, data=table_input_st())
def test_action_row_f_is_a_plus_b_plus_c_plus_d_plus_e(kind, data):
    table = _build(kind, data)
    for row in table.rows_of_kind(RowKind.ACTION):
        assert row.amounts["F"] == sum((_value(row.amounts[k]) for k in FUNDING), ZERO)


@SETTINGS
@given(kind=kinds, data=table_input_st())
def test_theme_subtotals_sum_their_action_rows(kind, data):
    table = _build(kind, data)
    themes = {theme.key: theme for theme in data["themes"]}
    action_rows = table.rows_of_kind(RowKind.ACTION)
    subtotals = table.rows_of_kind(RowKind.THEME_SUBTOTAL)
    for subtotal in subtotals:
        rows = [row for row in action_rows if row.theme_key == subtotal.theme_key]
        lines = [line for line in data["lines"] if line.theme_key == subtotal.theme_key]
        for key in table.amount_keys:
            assert subtotal.amounts[key] == _sum(rows, key), (subtotal.theme_key, key)
        assert subtotal.amounts["F"] == sum((line.total for line in lines), ZERO)
    # One sub-total per thème, except in an initiative block of a single thème.
    initiative = [t for t in data["themes"] if t.block == Block.INITIATIVE]
    expected = {
        key for key, theme in themes.items() if theme.block == Block.SOCLE or len(initiative) > 1
    }
    assert sorted(row.theme_key for row in subtotals) == sorted(expected)


@SETTINGS
@given(kind=kinds, data=table_input_st())
def test_block_subtotals_and_grand_total(kind, data):
    table = _build(kind, data)
    blocks = table.rows_of_kind(RowKind.BLOCK_SUBTOTAL)
    action_rows = table.rows_of_kind(RowKind.ACTION)
    subtotals = table.rows_of_kind(RowKind.THEME_SUBTOTAL)
    assert [row.block for row in blocks] == [
        block for block in Block if any(t.block == block for t in data["themes"])
    ]
    for block_row in blocks:
        block_themes = [t for t in data["themes"] if t.block == block_row.block]
        parts = [row for row in subtotals if row.block == block_row.block]
        if block_row.block == Block.INITIATIVE and len(block_themes) == 1:
            assert parts == []
            parts = [row for row in action_rows if row.block == block_row.block]
        for key in table.amount_keys:
            assert block_row.amounts[key] == _sum(parts, key), (block_row.block, key)
            in_block = [row for row in action_rows if row.block == block_row.block]
            assert block_row.amounts[key] == _sum(in_block, key), (block_row.block, key)
    grand_total = table.grand_total
    assert grand_total.kind == RowKind.GRAND_TOTAL
    assert table.rows_of_kind(RowKind.GRAND_TOTAL) == (grand_total,)
    for key in table.amount_keys:
        assert grand_total.amounts[key] == _sum(blocks, key), key
        assert grand_total.amounts[key] == _sum(action_rows, key), key
    assert grand_total.amounts["F"] == sum((line.total for line in data["lines"]), ZERO)
    assert grand_total.amounts["A"] == sum((_value(line.state_new) for line in data["lines"]), ZERO)


@SETTINGS
@given(kind=kinds, data=table_input_st(), shuffle=st.data())
def test_input_order_does_not_matter(kind, data, shuffle):
    table = _build(kind, data)
    shuffled = {
        "themes": shuffle.draw(st.permutations(data["themes"])),
        "lines": shuffle.draw(st.permutations(data["lines"])),
        "state_credit": data["state_credit"],
        "envelopes": shuffle.draw(st.permutations(data["envelopes"])),
    }
    other = _build(kind, shuffled)
    assert other.rows == table.rows
    assert other.findings == table.findings


@SETTINGS
@given(kind=kinds, data=table_input_st())
def test_totals_are_never_empty_and_placeholders_always_are(kind, data):
    table = _build(kind, data)
    for row in table.rows:
        if row.is_total:
            assert all(row.amounts[key] is not None for key in table.amount_keys), row
        if row.kind == RowKind.PLACEHOLDER:
            assert all(row.amounts[key] is None for key in table.amount_keys), row
        assert set(row.amounts) == set(table.amount_keys)


@SETTINGS
@given(kind=kinds, data=table_input_st())
def test_one_action_row_per_line(kind, data):
    table = _build(kind, data)
    action_rows = table.rows_of_kind(RowKind.ACTION)
    assert len(action_rows) == len(data["lines"])
    assert sorted(row.action_key for row in action_rows) == sorted(
        line.action_key for line in data["lines"]
    )
    # Placeholder rows stand only for thèmes without any action.
    used = {line.theme_key for line in data["lines"]}
    placeholders = table.rows_of_kind(RowKind.PLACEHOLDER)
    assert all(row.theme_key not in used for row in placeholders)
    assert len(placeholders) == sum(
        len(theme.placeholders) for theme in data["themes"] if theme.key not in used
    )


# --- Carry-over ----------------------------------------------------------------------------


@st.composite
def carried_pairs_st(draw):
    """Last year's executed lines and this year's lines that carry their reports exactly."""
    size = draw(st.integers(min_value=1, max_value=15))
    ids = draw(st.lists(st.integers(0, 999), min_size=size, max_size=size, unique=True))
    previous, current = [], []
    for action_id in ids:
        key = f"action-{action_id}"
        state, cd = draw(amounts), draw(amounts)
        previous.append(
            BudgetLine(
                action_key=key,
                theme_key="t",
                number=f"{draw(st.integers(1, 9))}.{draw(st.integers(1, 15))}",
                title=key,
                carry_over_state=state,
                carry_over_cd=cd,
            )
        )
        # An empty cell and 0,00 € are the same report; the number may change.
        current.append(
            BudgetLine(
                action_key=key,
                theme_key="t",
                number=f"{draw(st.integers(1, 9))}.{draw(st.integers(1, 15))}",
                title=key,
                state_carried_over=ZERO if state is None and draw(st.booleans()) else state,
                cd_carried_over=ZERO if cd is None and draw(st.booleans()) else cd,
                state_new=draw(amounts),
                cd_new=draw(amounts),
            )
        )
    # Actions present on one side only, with nothing to carry.
    previous.append(BudgetLine(action_key="ended", theme_key="t", number="9.9", title="x"))
    current.append(
        BudgetLine(
            action_key="new",
            theme_key="t",
            number="1.1",
            title="x",
            state_carried_over=draw(st.sampled_from([None, ZERO])),
        )
    )
    return previous, current


@SETTINGS
@given(pairs=carried_pairs_st(), shuffle=st.data())
def test_no_carry_over_finding_when_reports_are_carried(pairs, shuffle):
    previous, current = pairs
    findings = carry_over_findings(
        previous_year=2022,
        previous=shuffle.draw(st.permutations(previous)),
        current_year=2023,
        current=shuffle.draw(st.permutations(current)),
    )
    assert findings == []


@SETTINGS
@given(pairs=carried_pairs_st(), choice=st.data())
def test_carry_over_finding_names_the_action_whose_d_differs(pairs, choice):
    previous, current = pairs
    index = choice.draw(st.integers(0, len(previous) - 2))  # not the trailing "ended"
    before = previous[index]
    expected = _value(before.carry_over_cd)
    delta = choice.draw(
        st.integers(min_value=1, max_value=1_000_000).map(lambda c: Decimal(c).scaleb(-2))
    )
    changed = (
        expected - delta if choice.draw(st.booleans()) and expected >= delta else (expected + delta)
    )
    current = [
        replace(line, cd_carried_over=changed) if line.action_key == before.action_key else line
        for line in current
    ]
    findings = carry_over_findings(
        previous_year=2022, previous=previous, current_year=2023, current=current
    )
    mismatches = [f for f in findings if f.rule == Rule.CARRY_OVER_MISMATCH]
    assert len(mismatches) == 1, findings
    (mismatch,) = mismatches
    after = next(line for line in current if line.action_key == before.action_key)
    assert mismatch.action_key == before.action_key
    assert mismatch.action_number == after.number
    assert mismatch.column == "D"
    assert mismatch.expected == expected
    assert mismatch.actual == changed
    assert f"Fiche {after.number}" in mismatch.message
    totals = [f for f in findings if f.rule == Rule.CARRY_OVER_TOTAL_MISMATCH]
    assert len(totals) == 1, findings
    (total,) = totals
    assert total.column == "D"
    assert total.actual - total.expected == changed - expected
    assert len(findings) == 2
