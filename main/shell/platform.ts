// The OS the shell runs on, in one place: the tray, notifications and quit paths differ by it, and
// the shell scenarios (test/shell) run each platform's paths on any machine by replacing this module.
export const platform: NodeJS.Platform = process.platform;
