import { defineRoute } from '../../http/route.ts';
import { jobsQuery, recoveryKitBody, snapshotsQuery } from './backup.schema.ts';
import { backupStatus, listBackupJobs, listBackupSnapshots, recoveryKit, startBackup, startDrill } from './backup.service.ts';
import { accepted, ok } from '../../http/response.ts';
import { backupJobsView, backupSnapshotsView, backupStartedView, backupStatusView } from './backup.schema.ts';
import { recoveryKitView } from '../setup/setup.schema.ts';
import { targetBody, targetEditBody, targetParams, backupTargetsView, backupTargetAnswer as configuredTargetView, targetTestView } from './backup.schema.ts';
import { addTarget, editTarget, listTargets, removeTarget, testTarget } from './targets-config.service.ts';
import { created, noContent } from '../../http/response.ts';

export const backupRoutes = [
  defineRoute({
    method: 'get', path: '/backup/status', access: 'backup.read', tags: ['backup'],
    summary: 'Backup status: targets, newest snapshot per target, running jobs, last backup and last restore drill',
    response: ok(backupStatusView),
    handler: ({ services }) => backupStatus(services),
  }),
  defineRoute({
    method: 'get', path: '/backup/snapshots', access: 'backup.read', tags: ['backup'], query: snapshotsQuery,
    summary: 'Complete snapshots per target, newest first',
    response: ok(backupSnapshotsView),
    handler: ({ services, query }) => listBackupSnapshots(services, query.target),
  }),
  defineRoute({
    method: 'get', path: '/backup/jobs', access: 'backup.read', tags: ['backup'], query: jobsQuery,
    summary: 'Backup, drill and verification jobs, newest first',
    response: ok(backupJobsView),
    handler: ({ services, query }) => listBackupJobs(services, query.kind, query.limit),
  }),
  defineRoute({
    method: 'post', path: '/backup/runs', access: 'backup.run', tags: ['backup'],
    summary: 'Ask the worker for a backup now (202 with the request and, once the worker started it, the job id; 409 while another request is open)',
    response: accepted(backupStartedView),
    handler: async ({ ctx, services }) => {
      ctx.status = 202;
      ctx.body = await startBackup(services);
    },
  }),
  defineRoute({
    method: 'post', path: '/backup/drills', access: 'backup.run', tags: ['backup'],
    summary: 'Ask the worker for a restore drill now (202 with the request and, once started, the job id; 409 while another request is open)',
    response: accepted(backupStartedView),
    handler: async ({ ctx, services }) => {
      ctx.status = 202;
      ctx.body = await startDrill(services);
    },
  }),
  defineRoute({
    method: 'post', path: '/backup/recovery-kit', access: 'backup.recovery_kit', tags: ['backup'], body: recoveryKitBody,
    summary: 'Generate the offline recovery key; answers the printable kit once (409 if one exists, unless replace)',
    response: ok(recoveryKitView),
    handler: async ({ ctx, services, body }) => {
      ctx.set('cache-control', 'no-store');
      return recoveryKit(services, body);
    },
  }),
  defineRoute({
    method: 'get', path: '/backup/targets', access: 'backup.read', tags: ['backup'],
    summary: 'Backup targets: those of PRAXISKERN_BACKUP_TARGETS (source "configuration", read-only) and those added in the admin UI (source "ui"); secrets are never answered',
    response: ok(backupTargetsView),
    handler: ({ services }) => listTargets(services),
  }),
  defineRoute({
    method: 'post', path: '/backup/targets', access: 'backup.targets', tags: ['backup'], body: targetBody,
    summary: 'Add a backup target (SFTP with a pinned host key, or a local directory); the private key is stored sealed',
    response: created(configuredTargetView),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = await addTarget(services, body);
    },
  }),
  defineRoute({
    method: 'put', path: '/backup/targets/:name', access: 'backup.targets', tags: ['backup'], params: targetParams, body: targetEditBody,
    summary: 'Change a backup target added in the UI; without privateKey the stored key is kept',
    response: ok(configuredTargetView),
    handler: ({ services, params, body }) => editTarget(services, params.name, body),
  }),
  defineRoute({
    method: 'delete', path: '/backup/targets/:name', access: 'backup.targets', tags: ['backup'], params: targetParams,
    summary: 'Remove a backup target added in the UI (its snapshots stay where they are)',
    response: noContent('the target is removed'),
    handler: async ({ services, params }) => removeTarget(services, params.name),
  }),
  defineRoute({
    method: 'post', path: '/backup/targets/:name/test', access: 'backup.targets', tags: ['backup'], params: targetParams,
    summary: 'Test connection: write, read back and delete a probe file; a failure is answered with its code (e.g. target_host_key_mismatch)',
    response: ok(targetTestView),
    handler: ({ services, params }) => testTarget(services, params.name),
  }),
];
