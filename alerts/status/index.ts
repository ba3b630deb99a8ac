/** alerts/status: the status board (each service good / warning / failed). Experimental. */
export { registerStatusRoutes, type StatusRouteDeps } from './routes.ts';
export { renderStatusPage, PAGE_REFRESH_SECONDS } from './page.ts';
export * from './status.ts';
