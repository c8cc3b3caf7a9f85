// Routes of the backup module (status, snapshots, jobs, start backup/drill, recovery kit).
import type { AnyRoute } from './route.ts';
import { backupRoutes as routes } from '../modules/backup/backup.routes.ts';

export const backupRoutes: AnyRoute[] = [...routes];
