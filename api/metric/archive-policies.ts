import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { callerOf, TOKEN_SECURITY } from '../http.ts';
import { archivePolicyView } from './format.ts';

/** /v1/archive_policy and /v1/archive_policy_rule. */
export function registerArchivePolicyRoutes(v1: FastifyInstance, context: ApiContext): void {
  const tags = ['metric'];
  v1.get('/archive_policy', { schema: { tags, summary: 'List archive policies', security: TOKEN_SECURITY } }, async (request) => {
    context.access.enforce('archive_policy:read', callerOf(request));
    return context.policyStore.listPolicies().map(archivePolicyView);
  });
  v1.get('/archive_policy/:name', { schema: { tags, summary: 'Show an archive policy', security: TOKEN_SECURITY, params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } }, async (request) => {
    context.access.enforce('archive_policy:read', callerOf(request));
    return archivePolicyView(context.policyStore.getPolicy((request.params as { name: string }).name));
  });
  v1.get('/archive_policy_rule', { schema: { tags, summary: 'List archive policy rules', security: TOKEN_SECURITY } }, async (request) => {
    context.access.enforce('archive_policy_rule:read', callerOf(request));
    return context.policyStore.listRules().map((r) => ({ name: r.name, metric_pattern: r.metric_pattern, archive_policy_name: r.archive_policy_name }));
  });
}
