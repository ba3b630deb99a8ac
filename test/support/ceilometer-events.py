"""Real Ceilometer's event converter, driven from the Cumulus tests and benchmarks.

Run with the Debian interpreter that has python3-ceilometer (/usr/bin/python3). Reads one
JSON request on stdin and writes one JSON answer on stdout:

  {"mode": "convert", "messages": [oslo message, ...],
   "runs": [{"key": k, "definitions": path, "drop_unmatched": false}, ...]}
    -> {"results": {k: [{"event": {...}} | {"event": null, "why": ...} | {"error": ...}]}}

  {"mode": "bench", "definitions": path, "messages": [...], "seconds": 3}
    -> {"events": n, "seconds": s, "events_per_second": r}

Each message is the inner oslo.messaging message (message_id, publisher_id, event_type,
priority, payload, timestamp, _context_* keys). It reaches the converter the way
oslo.messaging hands it to Ceilometer's event endpoint: the context unpacked from the
_context_ keys, the body {ctxt, publisher_id, event_type, payload, metadata}, and only the
priorities the endpoint has a method for (info, error).
"""

import json
import logging
import math
import sys
import time

from oslo_config import cfg
from stevedore import extension
import yaml

from ceilometer.event import converter

# The ceilometer.event.trait_plugin entry points of the installed package.
PLUGIN_NAMESPACE = 'ceilometer.event.trait_plugin'
# EventEndpoint defines info() and error() only; oslo's dispatcher drops other priorities.
ENDPOINT_PRIORITIES = ('info', 'error')
TYPE_NAMES = {1: 'string', 2: 'int', 3: 'float', 4: 'datetime'}


def make_converter(definitions_file, drop_unmatched):
    conf = cfg.ConfigOpts()
    conf.register_opts(converter.OPTS, group='event')
    conf([], project='cumulus-reference', default_config_files=[])
    conf.set_override('drop_unmatched_notifications', drop_unmatched, group='event')
    with open(definitions_file) as handle:
        definitions = yaml.safe_load(handle)
    plugins = extension.ExtensionManager(namespace=PLUGIN_NAMESPACE)
    return converter.NotificationEventsConverter(conf, definitions, plugins)


def oslo_body(message):
    """What oslo.messaging's AMQP driver and notification dispatcher make of a message."""
    message = dict(message)
    ctxt = {}
    for key in list(message):
        if key.startswith('_context_'):
            ctxt[key[len('_context_'):]] = message.pop(key)
    ctxt['client_timeout'] = message.pop('_timeout', None)
    priority = (message.get('priority') or '').lower()
    body = dict(ctxt=ctxt,
                publisher_id=message.get('publisher_id'),
                event_type=message.get('event_type'),
                payload=message.get('payload'),
                metadata={'message_id': message.get('message_id'),
                          'timestamp': message.get('timestamp')})
    return priority, body


def iso(moment):
    return ('%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00'
            % (moment.year, moment.month, moment.day, moment.hour,
               moment.minute, moment.second, moment.microsecond))


def trait_json(trait):
    value = trait.value
    if trait.dtype == 4:
        value = iso(value)
    elif isinstance(value, float) and not math.isfinite(value):
        value = repr(value)
    return {'name': trait.name, 'type': TYPE_NAMES.get(trait.dtype, 'none'),
            'value': value}


def convert_one(events, message):
    priority, body = oslo_body(message)
    if priority not in ENDPOINT_PRIORITIES:
        return {'event': None, 'why': 'priority %r has no event endpoint' % priority}
    try:
        event = events.to_event(priority, body)
    except Exception as err:  # Ceilometer logs these and acks the message
        return {'error': '%s: %s' % (type(err).__name__, err)}
    if event is None:
        return {'event': None, 'why': 'no definition matches'}
    return {'event': {'message_id': event.message_id,
                      'event_type': event.event_type,
                      'generated': iso(event.generated),
                      'traits': [trait_json(t) for t in event.traits]}}


def convert(request):
    results = {}
    for run in request['runs']:
        events = make_converter(run['definitions'],
                                run.get('drop_unmatched', False))
        results[run['key']] = [convert_one(events, m)
                               for m in request['messages']]
    return {'results': results}


def bench(request):
    events = make_converter(request['definitions'],
                            request.get('drop_unmatched', False))
    prepared = [oslo_body(m) for m in request['messages']]
    prepared = [(p, b) for p, b in prepared if p in ENDPOINT_PRIORITIES]
    for priority, body in prepared:  # warm up
        events.to_event(priority, body)
    budget = float(request.get('seconds', 3))
    count = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < budget:
        for priority, body in prepared:
            events.to_event(priority, body)
        count += len(prepared)
        elapsed = time.perf_counter() - started
    return {'events': count, 'seconds': elapsed,
            'events_per_second': count / elapsed}


def main():
    logging.disable(logging.CRITICAL)
    request = json.load(sys.stdin)
    # jsonpath_rw_ext prints each `sub` operator it parses: keep stdout for the answer.
    answer_to, sys.stdout = sys.stdout, sys.stderr
    answer = bench(request) if request.get('mode') == 'bench' else convert(request)
    json.dump(answer, answer_to)


if __name__ == '__main__':
    main()
