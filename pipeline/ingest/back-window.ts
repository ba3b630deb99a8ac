/**
 * Gnocchi's back window lives in storage/back-window.ts: the pipeline and the API's
 * measure writes (storage/measure-writes.ts) apply the same rule. Re-exported here so the
 * pipeline's imports keep their place.
 */
export { MEASURE_BEFORE_BACK_WINDOW, applyBackWindow, effectiveBackWindow, oldestAcceptedMs, type BackWindowMeasure, type BackWindowResult, type RefusedMeasure } from '../../storage/index.ts';
