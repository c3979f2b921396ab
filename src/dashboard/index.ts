/**
 * The dashboard: a live view of the three layers and a view explorer, served at `/`.
 *
 * @module
 */
export { registerDashboard } from './dashboard-routes.ts';
