"""Real Gnocchi 4.4's /v1/aggregates operations, as the reference for Cumulus's evaluator.

Run with the Debian interpreter that has python3-gnocchi (/usr/bin/python3). Reads one JSON
request on stdin, writes one JSON answer on stdout:

  {"requests": [{"series": [{"name", "method", "granularity", "points": [[t_s, value], ...]}],
                 "operations": "(aggregate mean (metric ...))" | [...],
                 "start": t_s | null, "stop": t_s | null,
                 "needed_overlap": pct | null, "fill": number | "null" | "dropna" | null}]}
    -> {"results": [{"aggregated": [[t_s, granularity_s, value | null], ...]}
                    | {"series": {"<name>": {"<method>": [[t_s, granularity_s, value | null], ...]}}}
                    | {"error": "<reason>"}]}

The operations go through the REST layer's own schema (OperationsSchema: the string form's
parser and the voluptuous checks), then gnocchi.rest.aggregates.processor.aggregated() runs
them over the series with the REST defaults (neither fill nor needed_overlap: dropna).
Non-finite values come back as null.
"""

import importlib.util
import json
import os
import sys
import types

import numpy

# The time and number conversions of the archive-policy reference (it also applies numpy.int).
_spec = importlib.util.spec_from_file_location("gnocchi_carbonara", os.path.join(os.path.dirname(os.path.abspath(__file__)), "gnocchi-carbonara.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

from gnocchi import carbonara  # noqa: E402
from gnocchi import utils  # noqa: E402
from gnocchi.rest.aggregates import api as agg_api  # noqa: E402
from gnocchi.rest.aggregates import exceptions as agg_exceptions  # noqa: E402
from gnocchi.rest.aggregates import processor  # noqa: E402

to_datetimes, epoch, number = reference.to_datetimes, reference.epoch, reference.number


def reference_series(s):
    """One series as the REST layer hands it to aggregated(): a lookup key and an AggregatedTimeSerie."""
    aggregation = carbonara.Aggregation(s["method"], numpy.timedelta64(int(s["granularity"]), "s"), None)
    times = to_datetimes([t for t, _ in s["points"]])
    values = numpy.array([v for _, v in s["points"]], dtype=float)
    ref = types.SimpleNamespace(lookup_key=[s["name"], s["method"]], name=s["name"], aggregation=s["method"], resource=None)
    return ref, carbonara.AggregatedTimeSerie.from_data(aggregation, times, values)


def run(request):
    refs_and_series = [reference_series(s) for s in request["series"]]
    try:
        operations = agg_api.OperationsSchema(request["operations"])
    except Exception as e:  # voluptuous.Invalid, or the parser's HTTP 400
        return {"error": "invalid: %s" % getattr(e, "detail", e)}
    bound = {k: None if request.get(k) is None else to_datetimes([request[k]])[0] for k in ("start", "stop")}
    needed, fill = request.get("needed_overlap"), request.get("fill")
    # The REST defaults: neither fill nor needed_overlap -> dropna; a number fill is a float.
    fill = "dropna" if fill is None and needed is None else (float(fill) if isinstance(fill, (int, float)) else fill)
    try:
        out = processor.aggregated(refs_and_series, operations, bound["start"], bound["stop"], 100.0 if needed is None else float(needed), fill)
    except agg_exceptions.UnAggregableTimeseries as e:
        return {"error": e.reason}
    if "aggregated" in out:
        return {"aggregated": [[epoch(t), float(utils.timespan_total_seconds(g)), number(v)] for t, g, v in out["aggregated"]]}
    series = {}
    for name, methods in out.items():
        series[name] = {}
        for method, points in methods.items():
            series[name][method] = [[epoch(t), float(utils.timespan_total_seconds(g)), number(v)] for t, g, v in points]
    return {"series": series}


def main():
    request = json.load(sys.stdin)
    json.dump({"results": [run(r) for r in request["requests"]]}, sys.stdout)


if __name__ == "__main__":
    main()
