"""Real Ceilometer 19 (python3-ceilometer) as a reference peer for the collector tests and benchmark.

Run with the Debian interpreter, /usr/bin/python3. One JSON document on stdin, one on stdout:
  check                     -> {"ceilometer": version}
  parse  [path, ...]        -> [{"tree": ...} | {"error": ...}]   jsonpath-rw-ext parse trees
  eval   [{path, data}]     -> [{"values": [...], "paths": [...]} | {"error": ...}]
  map    {meters, bodies}   -> [{"samples": [...], "failed": bool, "log": [...]}]  one per body
  bench  {meters, bodies, rounds} -> {"notifications": n, "samples": n, "seconds": s}

`meters` is a directory of meter definition files (Ceilometer's meter_definitions_dirs),
or null for the definitions Ceilometer ships. Bodies are AMQP message bodies as the
control plane publishes them (the oslo.messaging v2 envelope).
"""

import json
import logging
import operator
import os
import sys
import time


class Capture(logging.Handler):
    """Keeps what Ceilometer logs while one notification is processed."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelname, record.name, record.getMessage()))


def setup(meters_dir, quiet):
    from ceilometer import service
    conf = service.prepare_service(argv=['ceilometer-peer'], config_files=[])
    if meters_dir:
        conf.set_override('meter_definitions_dirs', [meters_dir], group='meter')
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    capture = Capture()
    logging.getLogger('ceilometer').addHandler(capture)
    logging.getLogger('ceilometer').setLevel(logging.ERROR if quiet else logging.WARNING)
    return conf, capture


class Recorder:
    """The publisher side of the notification agent: SamplePipeline.publish_data's volume check, then keep."""

    def __init__(self, sign_with=None):
        from ceilometer.pipeline import sample as sample_pipeline
        from ceilometer.publisher import utils
        self.validate = sample_pipeline.SamplePipeline._validate_volume
        self.utils = utils
        self.sign_with = sign_with
        self.samples = []

    def __enter__(self):
        return self.publish

    def __exit__(self, *exc):
        return False

    def publish(self, samples):
        if not isinstance(samples, list):
            samples = [samples]
        accepted = [s for s in samples if self.validate(None, s)]
        if self.sign_with is not None:
            # What the notifier publisher does with each sample before sending it.
            accepted = [self.utils.meter_message_from_counter(s, self.sign_with) for s in accepted]
        self.samples.extend(accepted)


def incoming(body):
    """What oslo.messaging's AMQP driver hands the dispatcher for one message body."""
    from oslo_messaging._drivers import amqp as rpc_amqp
    from oslo_messaging._drivers import common as rpc_common

    class Incoming:
        def __init__(self, ctxt, message):
            self.ctxt = ctxt
            self.message = message

    message = rpc_common.deserialize_msg(json.loads(body))
    ctxt = rpc_amqp.unpack_context(message)
    return Incoming(ctxt.to_dict(), message)


def endpoint_and_dispatcher(conf, recorder):
    from ceilometer.meter import notifications
    from oslo_messaging.notify import dispatcher as notify_dispatcher
    from oslo_messaging import serializer as oslo_serializer
    endpoint = notifications.ProcessMeterNotifications(conf, recorder)
    dispatcher = notify_dispatcher.BatchNotificationDispatcher([endpoint], oslo_serializer.JsonPayloadSerializer())
    return endpoint, dispatcher


def plain(value):
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def sample_json(sample):
    d = sample.as_dict()
    d.pop('id', None)
    d.pop('monotonic_time', None)
    return plain(d)


def run_map(doc):
    conf, capture = setup(doc.get('meters'), quiet=False)
    recorder = Recorder()
    _, dispatcher = endpoint_and_dispatcher(conf, recorder)
    out = []
    for body in doc['bodies']:
        recorder.samples = []
        capture.records = []
        dispatcher.dispatch([incoming(body)])
        failed = any(level == 'ERROR' and 'Fail to process notification' in text for level, _, text in capture.records)
        out.append({'samples': [sample_json(s) for s in recorder.samples], 'failed': failed,
                    'log': ['%s %s: %s' % r for r in capture.records]})
    return out


def run_bench(doc):
    conf, _ = setup(doc.get('meters'), quiet=True)
    recorder = Recorder(sign_with='metering-secret-for-the-benchmark')
    _, dispatcher = endpoint_and_dispatcher(conf, recorder)
    bodies = doc['bodies']
    batch = conf.notification.batch_size
    rounds = doc.get('rounds', 1)
    started = time.process_time()
    for _ in range(rounds):
        for at in range(0, len(bodies), batch):
            dispatcher.dispatch([incoming(b) for b in bodies[at:at + batch]])
    seconds = time.process_time() - started
    return {'notifications': len(bodies) * rounds, 'samples': len(recorder.samples), 'seconds': seconds}


OPERATORS = {operator.add: '+', operator.sub: '-', operator.mul: '*', operator.truediv: '/'}


def tree(node):
    """A jsonpath-rw(-ext) parse tree in the neutral form the TypeScript side renders too."""
    import jsonpath_rw as j
    from jsonpath_rw_ext import _arithmetic, _filter, _iterable, _string
    if isinstance(node, bool):
        return ['lit', node, False]
    if isinstance(node, int):
        return ['lit', node, False]
    if isinstance(node, float):
        return ['lit', node, True]
    if isinstance(node, str):
        return ['lit', node, False]
    if isinstance(node, _arithmetic.Operation):
        return ['op', OPERATORS[node.op], tree(node.left), tree(node.right)]
    if isinstance(node, _iterable.SortedThis):
        return ['sorted', None if node.expressions is None else [[tree(p), r] for p, r in node.expressions]]
    if isinstance(node, _iterable.Len):
        return ['len']
    if isinstance(node, _string.Split):
        return ['split', node.char, node.segment, node.max_split]
    if isinstance(node, _string.Sub):
        return ['sub', node.expr, node.repl]
    if isinstance(node, _filter.Filter):
        out = []
        for e in node.expressions:
            v = e.value
            kind = None if e.op is None else ('bool' if isinstance(v, bool) else 'int' if isinstance(v, int) else 'float' if isinstance(v, float) else 'id')
            out.append([tree(e.target), e.op, v, kind])
        return ['filter', out]
    if isinstance(node, j.Root):
        return ['root']
    if isinstance(node, j.Parent):
        return ['parent']
    if isinstance(node, j.This):
        return ['this']
    if isinstance(node, j.Fields):
        return ['fields', list(node.fields)]
    if isinstance(node, j.Index):
        return ['index', node.index]
    if isinstance(node, j.Slice):
        return ['slice', node.start, node.end]
    for cls, name in ((j.Child, 'child'), (j.Descendants, 'descendants'), (j.Where, 'where'), (j.Union, 'union'), (j.Intersect, 'intersect')):
        if isinstance(node, cls):
            return [name, tree(node.left), tree(node.right)]
    raise TypeError('unknown node %r' % (node,))


def parser():
    from ceilometer import declarative
    return declarative.Definition.JSONPATH_RW_PARSER


def run_parse(paths):
    p = parser()
    out = []
    for path in paths:
        try:
            out.append({'tree': tree(p.parse(path))})
        except Exception as e:  # noqa: BLE001 - any refusal is an answer here
            out.append({'error': '%s: %s' % (type(e).__name__, e)})
    return out


def run_eval(cases):
    from ceilometer import declarative
    p = parser()
    out = []
    for case in cases:
        try:
            matches = p.parse(case['path']).find(case['data'])
            # The same walk Ceilometer's Definition._get_path does for its plugins.
            d = declarative.Definition.__new__(declarative.Definition)
            out.append({'values': plain([m.value for m in matches]), 'paths': ['.'.join(d._get_path(m)) for m in matches]})
        except Exception as e:  # noqa: BLE001
            out.append({'error': '%s: %s' % (type(e).__name__, e)})
    return out


def main():
    mode = sys.argv[1]
    # jsonpath-rw-ext's Sub prints its repr when built: keep stdout for the answer.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    doc = json.load(sys.stdin)
    if mode == 'check':
        import ceilometer.meter.notifications  # noqa: F401 - the import is the check
        from importlib import metadata
        result = {'ceilometer': metadata.version('ceilometer'), 'python': sys.version.split()[0], 'path': os.path.dirname(ceilometer.meter.notifications.__file__)}
    elif mode == 'parse':
        result = run_parse(doc)
    elif mode == 'eval':
        result = run_eval(doc)
    elif mode == 'map':
        result = run_map(doc)
    elif mode == 'bench':
        result = run_bench(doc)
    else:
        raise SystemExit('unknown mode %s' % mode)
    real_stdout.write(json.dumps(result))
    real_stdout.flush()


if __name__ == '__main__':
    main()
