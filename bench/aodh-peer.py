#!/usr/bin/python3
"""Aodh 15's own gnocchi alarm evaluation (Debian's python3-aodh) for the alerts benchmark.

Run by bench/alerts.ts: /usr/bin/python3 bench/aodh-peer.py <gnocchi_url> <alarms.json> <rounds> <workdir>
- alarms.json: Aodh API bodies [{"name", "type", "<type>_rule": {...}}], metric ids already Gnocchi's.

What runs is Aodh's code, not a re-implementation: the alarms are created in Aodh's SQL
storage (its alembic migrations, on SQLite in workdir) and each round does what an Aodh
evaluator worker does per round (aodh/evaluator/__init__.py _evaluate_assigned_alarms):
get_alarms(enabled=True, type != event/composite), then for each alarm the evaluator of its
type (aodh.evaluator.gnocchi.*) .evaluate(alarm): statistics from Gnocchi through
gnocchiclient, Aodh's threshold logic, and on a change _refresh (update_alarm +
record_alarm_change in its storage; notifications on oslo.messaging's in-memory fake://
transport, none carry actions). Replaced, because no keystone runs here: the keystone session
(gnocchiclient's basic auth as admin, which is how scripts/gnocchi.sh's Gnocchi is reached)
and the evaluator's keystone client identity (empty user/project ids, as Cumulus records).
Not run: the coordination/partitioning (one worker owns every alarm) and the 60 s scheduler.
Prints one JSON line: {alarms, rounds: [seconds...], states: {state: count}, measured}.
"""
import json
import os
import sys
import time
import types
import uuid


def main():
    gnocchi_url, alarms_file, rounds, workdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    db_path = os.path.join(workdir, 'aodh.sqlite')

    from aodh import service
    conf = service.prepare_service(argv=[], config_files=[])
    conf.set_override('connection', 'sqlite:///' + db_path, group='database')
    # Aodh logs each transition at INFO; a deployment would too, but here it is only noise on stderr.
    import logging
    for name in ('aodh', 'alembic', 'gnocchiclient', 'keystoneauth'):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Aodh's notifiers get oslo.messaging's in-memory transport (no broker runs here).
    import oslo_messaging
    from aodh import messaging
    messaging.TRANSPORTS[messaging.DEFAULT_URL] = oslo_messaging.get_notification_transport(conf, 'fake://')

    from keystoneauth1 import session as ks_session
    from gnocchiclient import auth as gnocchi_auth
    from aodh import keystone_client
    gnocchi_session = ks_session.Session(auth=gnocchi_auth.GnocchiBasicPlugin(user='admin', endpoint=gnocchi_url))
    keystone_client.get_session = lambda _conf: gnocchi_session

    from aodh import storage
    from aodh.storage import models
    from aodh.evaluator import gnocchi
    conn = storage.get_connection_from_config(conf)
    conn.upgrade()

    evaluators = {
        'gnocchi_resources_threshold': gnocchi.GnocchiResourceThresholdEvaluator(conf),
        'gnocchi_aggregation_by_metrics_threshold': gnocchi.GnocchiAggregationMetricsThresholdEvaluator(conf),
        'gnocchi_aggregation_by_resources_threshold': gnocchi.GnocchiAggregationResourcesThresholdEvaluator(conf),
    }
    identity = types.SimpleNamespace(user_id='', project_id='')
    for evaluator in evaluators.values():
        evaluator.storage_conn = conn
        evaluator._ks_client = identity

    with open(alarms_file) as f:
        bodies = json.load(f)
    now = __import__('datetime').datetime.utcnow()
    project_id, user_id = uuid.uuid4().hex, uuid.uuid4().hex
    for body in bodies:
        conn.create_alarm(models.Alarm(
            alarm_id=str(uuid.uuid4()), type=body['type'], enabled=True, name=body['name'], description='',
            timestamp=now, user_id=user_id, project_id=project_id, state='insufficient data',
            state_timestamp=now, state_reason='Not evaluated yet', ok_actions=[], alarm_actions=[],
            insufficient_data_actions=[], repeat_actions=False, rule=body[body['type'] + '_rule'],
            time_constraints=[], severity='low'))

    seconds = []
    for r in range(rounds):
        started = time.perf_counter()
        count = 0
        # As _assigned_alarms + _evaluate_alarm, with this worker owning every alarm.
        for alarm in conn.get_alarms(enabled=True, type={'ne': 'event'}):
            if alarm.type == 'composite':
                continue
            evaluators[alarm.type].evaluate(alarm)
            count += 1
        elapsed = time.perf_counter() - started
        if count != len(bodies):
            raise SystemExit('round %d evaluated %d of %d alarms' % (r + 1, count, len(bodies)))
        seconds.append(elapsed)
        sys.stderr.write('aodh: round %d/%d: %d alarms in %.2f s (%d/s)\n' % (r + 1, rounds, count, elapsed, count / elapsed))

    states = {}
    unknown = {}
    for alarm in conn.get_alarms():
        states[alarm.state] = states.get(alarm.state, 0) + 1
        if alarm.state == 'insufficient data':
            unknown.setdefault((alarm.type, alarm.state_reason[:200]), 0)
            unknown[(alarm.type, alarm.state_reason[:200])] += 1
    for (alarm_type, reason), count in unknown.items():
        sys.stderr.write('aodh: %d %s alarms in insufficient data: %s\n' % (count, alarm_type, reason))
    measured = ('Aodh evaluate(alarm) per alarm (gnocchiclient -> Gnocchi API, threshold logic, '
                'state changes in Aodh SQL storage on SQLite) + get_alarms per round; no keystone, '
                'no coordination')
    print(json.dumps({'alarms': len(bodies), 'rounds': seconds, 'states': states, 'measured': measured}))


if __name__ == '__main__':
    main()
