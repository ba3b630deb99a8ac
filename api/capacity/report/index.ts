/** The capacity planning report: assembled from the model and forecasts, rendered as HTML with charts, CSV or PDF. Experimental. */
export { assembleCapacityReport, nextMonths, DEFAULT_FIT_MONTHS, REPORT_RESOURCES, RESOURCE_UNITS, type CapacityPlanningReport, type FlavorFitSection, type GrowthRow, type ReportInputs, type ResourceSection, type ZoneRow } from './report.ts';
export { capacityReportHtml, flavorFitChart, forecastChart, FORECAST_CHART_SIZE, FIT_CHART_SIZE } from './html.ts';
export { capacityReportCsv, CAPACITY_CSV_COLUMNS } from './csv.ts';
export { loadCapacityReport, DEFAULT_REPORT_HISTORY_DAYS, DEFAULT_REPORT_HORIZON_DAYS, type ReportRequest } from './inputs.ts';
export { registerCapacityReportRoute, REPORT_FORMATS, type ReportFormat } from './routes.ts';
