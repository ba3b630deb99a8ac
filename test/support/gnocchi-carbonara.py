"""Real Gnocchi 4.4 (python3-gnocchi) as the reference for archive policies and aggregates.

Run with the Debian interpreter that has it (/usr/bin/python3). Reads one JSON request on
stdin, writes one JSON answer on stdout:

  {"mode": "storage", "cases": [{"definition": [[granularity_s, points], ...],
     "back_window": n, "methods": [...], "batches": [[[t_s, value], ...], ...]}]}
    -> {"results": [{"<method>@<granularity>": [[t_s, value], ...]}]}
  Each batch goes through Gnocchi's own storage path (add_measures_to_metrics on a file
  storage in a temporary directory: back window, raw bound series, aggregation, splits),
  then every (method, granularity) is read back with get_aggregated_measures.

  {"mode": "aggregated", "requests": [{"series": [{"name", "method", "granularity", "points": [[t_s, v]]}],
   "reaggregation": "mean", "start": t_s | null, "stop": t_s | null,
   "needed_overlap": pct | null, "fill": number | "null" | "dropna" | null}]}
    -> {"results": [{"points": [[t_s, granularity_s, value | null], ...]} | {"error": reason}]}
  gnocchi.rest.aggregates.processor.aggregated() on those series, with the REST defaults.

  {"mode": "timespan", "values": [...]} -> {"results": [seconds | "error: ..."]}

  {"mode": "policy", "default_methods": [...], "bodies": [{name, back_window, definition, aggregation_methods?}]}
    -> {"results": [{"definition": [[granularity_s, points], ...], "aggregation_methods": [...]} | "error: ..."]}
  Definition items through the REST API's Timespan conversion, then ArchivePolicy.

  {"mode": "builtins"} -> {"default_methods": [...], "policies": [{name, back_window,
     "definition": [[granularity_s, points], ...], "aggregation_methods": [...]}]}
  Gnocchi's DEFAULT_ARCHIVE_POLICIES, with the default_aggregation_methods option's default.

  {"mode": "rules", "rules": [[name, pattern], ...], "metrics": [...]}
    -> {"results": [rule name | null]}  (the indexer's order: pattern desc, name asc; fnmatch)
"""

import fnmatch
import json
import math
import sys
import tempfile
import types
import uuid

import numpy

# carbonara's quantile still calls numpy.int, which numpy 1.24 removed; it meant int.
if not hasattr(numpy, "int"):
    numpy.int = int

from gnocchi import archive_policy  # noqa: E402
from gnocchi import carbonara  # noqa: E402
from gnocchi import utils  # noqa: E402
from gnocchi.rest.aggregates import exceptions as agg_exceptions  # noqa: E402
from gnocchi.rest.aggregates import processor  # noqa: E402
from gnocchi.storage import file as file_storage  # noqa: E402


class Metric(object):
    """What the storage driver needs of a metric: an id and an archive policy, hashable."""

    def __init__(self, policy):
        self.id = uuid.uuid4()
        self.archive_policy = policy

    def __hash__(self):
        return hash(self.id)

    def __eq__(self, other):
        return self is other


def to_datetimes(seconds):
    # Microseconds, like Cumulus's DateTime64(6) column.
    return numpy.array([int(round(s * 1e6)) for s in seconds], dtype="datetime64[us]").astype("datetime64[ns]")


def epoch(t):
    return float(carbonara.datetime64_to_epoch(t))


def number(v):
    v = float(v)
    return v if math.isfinite(v) else None


def run_storage(case):
    policy = archive_policy.ArchivePolicy(
        "reference", case["back_window"],
        [{"granularity": numpy.timedelta64(int(g), "s"), "points": int(p)} for g, p in case["definition"]],
        case["methods"])
    metric = Metric(policy)
    with tempfile.TemporaryDirectory() as directory:
        store = file_storage.FileStorage(types.SimpleNamespace(file_basepath=directory, file_subdir_len=2))
        store.upgrade()
        for batch in case["batches"]:
            if not batch:
                continue
            series = carbonara.make_timeseries(to_datetimes([t for t, _ in batch]), numpy.array([v for _, v in batch], dtype=float))
            store.add_measures_to_metrics({metric: series})
        result = {}
        for method in case["methods"]:
            for g, _ in case["definition"]:
                aggregation = policy.get_aggregation(method, numpy.timedelta64(int(g), "s"))
                try:
                    series = store.get_aggregated_measures({metric: [aggregation]})[metric][aggregation]
                    result["%s@%d" % (method, g)] = [[epoch(t), number(v)] for t, v in series]
                except Exception:  # no split stored yet for this aggregation
                    result["%s@%d" % (method, g)] = []
    return result


def run_aggregated(request):
    refs_and_series = []
    names = []
    for s in request["series"]:
        granularity = numpy.timedelta64(int(s["granularity"]), "s")
        points = s["points"]
        ts = carbonara.AggregatedTimeSerie.from_data(
            carbonara.Aggregation(s["method"], granularity, None),
            to_datetimes([t for t, _ in points]), numpy.array([v for _, v in points], dtype=float))
        ref = types.SimpleNamespace(lookup_key=[s["name"], s["method"]], name=s["name"], aggregation=s["method"], resource=None)
        refs_and_series.append((ref, ts))
        names.append([s["name"], s["method"]])
    operations = ["aggregate", request["reaggregation"], ["metric"] + names]
    start = None if request.get("start") is None else to_datetimes([request["start"]])[0]
    stop = None if request.get("stop") is None else to_datetimes([request["stop"]])[0]
    needed = request.get("needed_overlap")
    fill = request.get("fill")
    # The REST layer's defaults (rest/aggregates/api.py): neither given -> dropna.
    if fill is None and needed is None:
        fill = "dropna"
    # FillSchema coerces a number to float; an int fill would make aggregated()'s grid an
    # integer array that truncates every value.
    if isinstance(fill, (int, float)):
        fill = float(fill)
    try:
        out = processor.aggregated(refs_and_series, operations, start, stop, 100.0 if needed is None else float(needed), fill)
    except agg_exceptions.UnAggregableTimeseries as e:
        return {"error": e.reason}
    return {"points": [[epoch(t), float(utils.timespan_total_seconds(g)), number(v)] for t, g, v in out["aggregated"]]}


def run_timespan(values):
    results = []
    for value in values:
        try:
            results.append(float(utils.timespan_total_seconds(utils.to_timespan(value))))
        except Exception as e:
            results.append("error: %s" % e)
    return results


def run_policy(request):
    archive_policy.ArchivePolicy.DEFAULT_AGGREGATION_METHODS = tuple(request["default_methods"])
    results = []
    for body in request["bodies"]:
        try:
            items = []
            for item in body["definition"]:
                converted = dict(item)
                for key in ("granularity", "timespan"):
                    if converted.get(key) is not None:
                        converted[key] = utils.to_timespan(converted[key])
                if converted.get("points") is not None:
                    converted["points"] = int(converted["points"])
                items.append(archive_policy.ArchivePolicyItem(**converted))
            policy = archive_policy.ArchivePolicy(
                body["name"], body.get("back_window", 0), items,
                body.get("aggregation_methods", request["default_methods"]))
            results.append({
                "definition": [[float(utils.timespan_total_seconds(d.granularity)), d.points] for d in policy.definition],
                "aggregation_methods": sorted(policy.aggregation_methods),
            })
        except Exception as e:
            results.append("error: %s" % e)
    return results


def run_builtins():
    defaults = list(next(o for o in archive_policy.OPTS if o.name == "default_aggregation_methods").default)
    archive_policy.ArchivePolicy.DEFAULT_AGGREGATION_METHODS = tuple(defaults)
    policies = []
    for name, policy in sorted(archive_policy.DEFAULT_ARCHIVE_POLICIES.items()):
        policies.append({
            "name": name,
            "back_window": policy.back_window,
            "definition": [[float(utils.timespan_total_seconds(d.granularity)), d.points] for d in policy.definition],
            "aggregation_methods": sorted(policy.aggregation_methods),
        })
    return {"default_methods": defaults, "policies": policies}


def run_rules(request):
    ordered = sorted(request["rules"], key=lambda r: r[0])
    ordered = sorted(ordered, key=lambda r: r[1], reverse=True)
    results = []
    for metric in request["metrics"]:
        match = next((name for name, pattern in ordered if fnmatch.fnmatch(metric or "", pattern)), None)
        results.append(match)
    return results


def main():
    request = json.load(sys.stdin)
    mode = request["mode"]
    if mode == "storage":
        answer = {"results": [run_storage(case) for case in request["cases"]]}
    elif mode == "aggregated":
        answer = {"results": [run_aggregated(r) for r in request["requests"]]}
    elif mode == "timespan":
        answer = {"results": run_timespan(request["values"])}
    elif mode == "policy":
        answer = {"results": run_policy(request)}
    elif mode == "builtins":
        answer = run_builtins()
    elif mode == "rules":
        answer = {"results": run_rules(request)}
    else:
        raise SystemExit("unknown mode %r" % mode)
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
