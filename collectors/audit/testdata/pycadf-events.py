"""Builds CADF events with pycadf itself, the way keystonemiddleware's audit filter and
Keystone build them, and prints them as JSON (event.as_dict()), for pycadf.test.ts."""
import json

from pycadf import cadftaxonomy as taxonomy
from pycadf import cadftype
from pycadf import credential
from pycadf import endpoint
from pycadf import eventfactory
from pycadf import host
from pycadf import reason
from pycadf import reporterstep
from pycadf import resource
from pycadf import tag
from pycadf import timestamp

SERVER = '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c'
USER = '0a1b2c3d4e5f40718293a4b5c6d7e8f9'
PROJECT = '9f8e7d6c5b4a49382716f5e4d3c2b1a0'

# keystonemiddleware.audit._api.OpenStackAuditApi._create_event (its KeystoneCredential
# is pycadf's Credential plus identity_status).
token = credential.Credential(token='0123456789abcdef0123456789abcdef')
token.identity_status = 'Confirmed'
initiator = resource.Resource(
    typeURI=taxonomy.ACCOUNT_USER, id=USER, name='alice', credential=token,
    host=host.Host(address='203.0.113.7', agent='python-novaclient'))
initiator.project_id = PROJECT
initiator.request_id = 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e'
target = resource.Resource(typeURI='service/compute/servers/server', id=SERVER, name='nova')
target.add_address(endpoint.Endpoint('http://controller:8774/v2.1', 'admin'))
target.add_address(endpoint.Endpoint('http://controller:8774/v2.1', 'public'))
http = eventfactory.EventFactory().new_event(
    eventType=cadftype.EVENTTYPE_ACTIVITY, outcome=taxonomy.OUTCOME_PENDING,
    action=taxonomy.ACTION_READ, initiator=initiator, target=target,
    observer=resource.Resource(id='target'))
http.requestPath = '/v2.1/servers/' + SERVER
http.add_tag(tag.generate_name_value_tag('correlation_id', '5b1f1c1e-8f5e-4b8e-9f62-1a2b3c4d5e6f'))
request = http.as_dict()
# keystonemiddleware's _process_response: the same event, answered.
http.outcome = taxonomy.OUTCOME_FAILURE
http.reason = reason.Reason(reasonType='HTTP', reasonCode='404')
http.add_reporterstep(reporterstep.Reporterstep(
    role=cadftype.REPORTER_ROLE_MODIFIER, reporter=resource.Resource(id='target'),
    reporterTime=timestamp.get_utc_now()))
response = http.as_dict()

# keystone.notifications: a failed password login for a user that does not exist.
login_initiator = resource.Resource(typeURI=taxonomy.ACCOUNT_USER, host=host.Host(address='203.0.113.66', agent='curl/8.5.0'))
login_initiator.request_id = 'req-0f0e0d0c-0b0a-4909-8807-060504030201'
login_initiator.user_name = 'mallory'
login = eventfactory.EventFactory().new_event(
    eventType=cadftype.EVENTTYPE_ACTIVITY, outcome=taxonomy.OUTCOME_FAILURE,
    action='authenticate', initiator=login_initiator,
    target=resource.Resource(typeURI=taxonomy.ACCOUNT_USER),
    observer=resource.Resource(typeURI=taxonomy.SERVICE_SECURITY),
    reason=reason.Reason(reasonType='Could not find user: mallory.', reasonCode='404'))

print(json.dumps({'request': request, 'response': response, 'login': login.as_dict()}))
