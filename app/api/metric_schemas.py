"""Shapes of the metrics and forecast answers (docs/api.md, "Metrics API"): the documented contract.

Durations are in days as decimals; dates are ISO dates on the board's clock.
"""

from marshmallow import Schema, fields

from app.api.schemas import RequestSchema, documented
from app.cards.models import CARD_TYPES


class MetricsQuerySchema(RequestSchema):
    from_ = fields.String(
        data_key="from",
        attribute="from",
        **documented("First day of the window (ISO date); default 29 days before `to`."),
    )
    to = fields.String(**documented("Last day of the window (ISO date); default today."))
    lane = fields.String(**documented("A lane by name, class of service or id."))
    type = fields.String(**documented("A card type.", enum=list(CARD_TYPES)))
    tag = fields.String(**documented("Only cards with this tag."))


class ForecastQuerySchema(MetricsQuerySchema):
    how_many_by = fields.String(**documented("How many items will be done by this date?"))
    when = fields.String(**documented("When will this many items be done?"))
    trials = fields.String(**documented("Number of trials, 100 to 100,000 (default 10,000)."))
    seed = fields.String(**documented("A seed for repeatable results."))
    basis_days = fields.String(
        **documented("Days of throughput to sample from, ending yesterday (default 30).")
    )


class WindowSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    days = fields.Integer()


class DurationStatsSchema(Schema):
    count = fields.Integer()
    mean = fields.Float(allow_none=True)
    p50 = fields.Float(allow_none=True)
    p70 = fields.Float(allow_none=True)
    p85 = fields.Float(allow_none=True)
    p95 = fields.Float(allow_none=True)
    histogram = fields.List(fields.Dict(), **documented("[{days, cards}] in whole-day bins."))


class ThroughputSchema(Schema):
    total = fields.Integer()
    mean_per_day = fields.Float()
    per_day = fields.List(fields.Dict(), **documented("[{date, count}], zero days included."))
    histogram = fields.List(fields.Dict(), **documented("[{count, days}]: days with k finishes."))


class MetricsSchema(Schema):
    board = fields.String()
    window = fields.Nested(WindowSchema)
    filters = fields.Dict()
    timezone = fields.String()
    columns = fields.List(fields.Dict(), **documented("[{name, kind, position}] left to right."))
    wip = fields.Integer(**documented("Cards started and not finished at the window's end."))
    wip_per_day = fields.List(fields.Dict(), **documented("[{date, wip}] at each day's end."))
    throughput = fields.Nested(ThroughputSchema)
    cycle_time = fields.Nested(DurationStatsSchema)
    lead_time = fields.Nested(DurationStatsSchema)
    sle_days = fields.Float(allow_none=True, **documented("85th percentile of cycle time."))
    flow_efficiency = fields.Float(allow_none=True, **documented("active / (active + wait)."))
    finished = fields.List(
        fields.Dict(), **documented("One entry per card finished in the window.")
    )
    cfd = fields.List(fields.Dict(), **documented("[{date, columns: {name: count}}]."))
    aging_wip = fields.List(
        fields.Dict(), **documented("[{card, title, column, age_days, blocked}].")
    )
    value_stream = fields.Dict(
        **documented("{steps: [...], active_days, wait_days, flow_efficiency}.")
    )
    blocked = fields.List(
        fields.Dict(), **documented("[{reason, count, days}] per blocked reason.")
    )
    littles_law = fields.Dict(
        **documented("{avg_wip, throughput_per_day, avg_cycle_time_days, expected_wip, ratio}.")
    )
    swarms = fields.Dict(
        **documented("Swarming over the window: by type and week, time to first expert, "
                     "duration, people, share swarmed, cycle time swarmed vs not, skills, "
                     "contribution by team.")
    )


class ForecastSchema(Schema):
    board = fields.String()
    mode = fields.String(**documented(enum=["how_many", "when"]))
    trials = fields.Integer()
    seed = fields.Integer(allow_none=True)
    start = fields.String(**documented("The first simulated day (tomorrow)."))
    basis = fields.Dict(**documented("{from, to, days, total, mean_per_day}."))
    filters = fields.Dict()
    by = fields.String(**documented("how_many: the target date."))
    days = fields.Integer(**documented("how_many: simulated days through the target date."))
    items = fields.Integer(**documented("when: the number of items asked about."))
    results = fields.List(
        fields.Dict(),
        **documented("how_many: [{confidence, items}]; when: [{confidence, date, days}]."),
    )
    histogram = fields.List(fields.Dict())
    unfinished_trials = fields.Integer(**documented("when: trials that never got there."))
