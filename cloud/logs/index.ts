/**
 * cloud/logs: the control plane's service logs in oslo.log's text format, one file per
 * host and process, as OpenStack's services write /var/log/<project>/<process>.log;
 * and the API processes' access lines.
 */
export * from './config.ts';
export * from './errors.ts';
export * from './format.ts';
export * from './service-lines.ts';
export * from './writer.ts';
export * from './access-log.ts';
