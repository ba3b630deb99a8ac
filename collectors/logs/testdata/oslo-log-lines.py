"""Writes log lines with oslo.log itself (Debian's python3-oslo.log), the way a Nova
service logs: context and default forms, DEBUG with its source suffix, a multi-line
message and an exception with its traceback. Usage: oslo-log-lines.py <log file>."""
import sys

from oslo_config import cfg
from oslo_context import context
from oslo_log import log as logging

CONF = cfg.CONF
logging.register_options(CONF)
CONF([], project='nova')
CONF.set_override('log_file', sys.argv[1])
CONF.set_override('debug', True)
logging.setup(CONF, 'nova')
LOG = logging.getLogger('nova.compute.manager')

LOG.info('before any request')
ctx = context.RequestContext(user_id='0a1b2c3d4e5f40718293a4b5c6d7e8f9', project_id='9f8e7d6c5b4a49382716f5e4d3c2b1a0',
                             request_id='req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e')
LOG.info('Took %.2f seconds to spawn the instance', 3.21, context=ctx)
LOG.debug('Starting to schedule', context=ctx)
LOG.warning('first line\nsecond line', context=ctx)
try:
    raise ValueError('boom')
except ValueError:
    LOG.exception('Instance failed to spawn', context=ctx, instance={'uuid': '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c'})
LOG.critical('the end', context=ctx)
