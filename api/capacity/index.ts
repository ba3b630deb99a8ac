/** api/capacity: capacity planning (issue 9). Pure math so far; routes and reports are wired elsewhere. Experimental. */
export * from './forecast/index.ts';
export * from './model/index.ts';
export { CapacityError, type CapacityErrorCode } from './errors.ts';
