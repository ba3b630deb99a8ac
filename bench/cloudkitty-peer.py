#!/usr/bin/python3
"""CloudKitty 17's own HashMap rating (Debian's python3-cloudkitty) over the rating bench's frames.

Run by bench/rating.ts: /usr/bin/python3 bench/cloudkitty-peer.py <rules.json> <frames.jsonl> <workdir>
- rules.json: [{"kind": "mapping"|"threshold", "service": ..., "field": ...|null,
  "value": ...|null, "level": ...|null, "cost": "...", "type": "flat"|"rate"}]
- frames.jsonl: one period a line: {"start", "end", "points": [[service, qty, unit, metadata, groupby]]}
The rules go into an SQLite database created by CloudKitty's own hashmap alembic migrations
and written through its own hash DB API; cloudkitty.rating.hash.HashMap loads them as the
processor does and process() prices each period's DataFrame. Only process() is timed (and
the DataFrame building, separately). Prints one JSON line: {frames, seconds, build_seconds, total}.
"""
import decimal
import json
import os
import sys
import time
from datetime import datetime


def parse(text):
    return datetime.fromisoformat(text.replace('Z', '+00:00'))


def main():
    rules_file, frames_file, workdir = sys.argv[1:4]
    db_path = os.path.join(workdir, 'cloudkitty-hashmap.sqlite')
    if os.path.exists(db_path):
        os.remove(db_path)

    from oslo_config import cfg
    from oslo_db import options as db_options
    db_options.set_defaults(cfg.CONF, connection='sqlite:///' + db_path)
    cfg.CONF([], project='cloudkitty', default_config_files=[], default_config_dirs=[])
    cfg.CONF.set_override('connection', 'sqlite:///' + db_path, group='database')

    from cloudkitty.rating.hash.db.sqlalchemy import migration
    migration.upgrade('head')

    from cloudkitty import dataframe
    from cloudkitty.rating import hash as hashmap
    from cloudkitty.rating.hash.db import api as hash_db_api

    db = hash_db_api.get_instance()
    services, fields = {}, {}
    with open(rules_file) as f:
        rules = json.load(f)
    for rule in rules:
        name = rule['service']
        if name not in services:
            services[name] = db.create_service(name).service_id
        parent = {'service_id': services[name]}
        if rule.get('field'):
            key = (name, rule['field'])
            if key not in fields:
                fields[key] = db.create_field(services[name], rule['field']).field_id
            parent = {'field_id': fields[key]}
        cost = decimal.Decimal(rule['cost'])
        if rule['kind'] == 'mapping':
            db.create_mapping(cost, map_type=rule['type'], value=rule.get('value'), **parent)
        else:
            db.create_threshold(decimal.Decimal(rule['level']), cost, map_type=rule['type'], **parent)

    processor = hashmap.HashMap()
    frames = 0
    seconds = 0.0
    build_seconds = 0.0
    total = decimal.Decimal(0)
    with open(frames_file) as f:
        for line in f:
            period = json.loads(line)
            t0 = time.perf_counter()
            data = dataframe.DataFrame(start=parse(period['start']), end=parse(period['end']))
            for service, qty, unit, metadata, groupby in period['points']:
                data.add_point(dataframe.DataPoint(unit, decimal.Decimal(qty), 0, groupby, metadata), service)
            t1 = time.perf_counter()
            rated = processor.process(data)
            t2 = time.perf_counter()
            build_seconds += t1 - t0
            seconds += t2 - t1
            for _, point in rated.iterpoints():
                total += point.price
                frames += 1
    print(json.dumps({'frames': frames, 'seconds': seconds, 'build_seconds': build_seconds, 'total': str(total)}))


if __name__ == '__main__':
    main()
