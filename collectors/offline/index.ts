export { mapCapture, toCeilometerJson, type CeilometerSampleJson, type OfflineRefusal, type OfflineResult } from './offline.ts';
export { parseCapturedLine, type CapturedMessage } from './captured.ts';
