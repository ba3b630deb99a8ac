/** alerts/routing/: Alertmanager-style routing, grouping, silences and inhibition into the outbox (issue 8). Experimental. */
export { createNotifier, FORGOTTEN_REASON, type Notifier, type NotifierDeps } from './notifier.ts';
export {
  DEFAULT_FALSE_POSITIVE_MS,
  DEFAULT_GROUP_INTERVAL_MS,
  DEFAULT_GROUP_WAIT_MS,
  DEFAULT_REPEAT_INTERVAL_MS,
  DEFAULT_TICK_MS,
  defaultRoutingConfig,
  loadRoutingConfig,
  parseDuration,
  parseRoutingConfig,
  type InhibitRule,
  type ReceiverConfig,
  type RouteNode,
  type RoutingConfig,
} from './config.ts';
export { createSilenceStore, parseSilenceInput, type Silence, type SilenceInput, type SilenceState, type SilenceStore } from './silences.ts';
export { formatMatcher, fromApiMatcher, matches, matchesAll, parseMatcher, toApiMatcher, type ApiMatcher, type Matcher } from './matchers.ts';
export { matchRoutes, groupOf } from './tree.ts';
export { alertLabels } from './labels.ts';
export { MatcherError, ROUTING_ERROR_CODES, RoutingConfigError, SilenceError } from './errors.ts';
export { registerSilenceRoutes, type SilenceRouteDeps } from './silence-routes.ts';
