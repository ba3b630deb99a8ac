/** Alarm definitions (Aodh's model plus Cumulus's log and outage alarms) and their store. */
export * from './model.ts';
export * from './store.ts';
export * from './query.ts';
