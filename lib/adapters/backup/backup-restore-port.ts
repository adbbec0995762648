import {
  type BackupClient,
  DescribeRestoreJobCommand,
  type DescribeRestoreJobOutput,
  ListRestoreJobsCommand,
  PutRestoreValidationResultCommand,
  type RestoreJobsListMember,
} from '@aws-sdk/client-backup';
import { ControlCheckError, type EvidenceLog } from '../../controls/outcome.ts';
import type { RestoreJobSummary, RestoreTestsPort } from '../../controls/ports.ts';
import type { BackupRestorePort } from '../../restore/restore-validation.ts';

function summarize(job: RestoreJobsListMember | DescribeRestoreJobOutput): RestoreJobSummary {
  return {
    restoreJobId: job.RestoreJobId ?? '',
    status: job.Status ?? 'UNKNOWN',
    ...(job.StatusMessage ? { statusMessage: job.StatusMessage } : {}),
    ...(job.ResourceType ? { resourceType: job.ResourceType } : {}),
    ...(job.SourceResourceArn ? { sourceResourceArn: job.SourceResourceArn } : {}),
    ...(job.CreatedResourceArn ? { createdResourceArn: job.CreatedResourceArn } : {}),
    ...(job.CreatedBy?.RestoreTestingPlanArn
      ? { restoreTestingPlanArn: job.CreatedBy.RestoreTestingPlanArn }
      : {}),
    ...(job.CreationDate ? { creationDate: job.CreationDate } : {}),
    ...(job.CompletionDate ? { completionDate: job.CompletionDate } : {}),
    ...(job.RecoveryPointCreationDate ? { recoveryPointCreationDate: job.RecoveryPointCreationDate } : {}),
    ...(job.ValidationStatus ? { validationStatus: job.ValidationStatus } : {}),
    ...(job.ValidationStatusMessage ? { validationStatusMessage: job.ValidationStatusMessage } : {}),
  };
}

/** The evidence form of a job: dates as ISO strings, no IAM role or account noise. */
function jobEvidence(job: RestoreJobSummary): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(job).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]),
  );
}

function describeBackupError(error: unknown, what: string): string {
  const name = (error as { name?: string }).name ?? 'Error';
  if (name === 'AccessDeniedException')
    return `${what}: access denied (check the function's backup:* permissions)`;
  if (name === 'ResourceNotFoundException') return `${what}: not found`;
  return `${what}: ${name} ${(error as Error).message ?? ''}`.trim();
}

/** AWS Backup restore jobs for the restore-test-history control (`ListRestoreJobs`, every page). */
export function makeBackupRestoreTests(client: BackupClient): RestoreTestsPort {
  return {
    async listRestoreJobs(range, evidence: EvidenceLog) {
      const jobs: RestoreJobSummary[] = [];
      let nextToken: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListRestoreJobsCommand({
              ByCreatedAfter: range.createdAfter,
              ByCreatedBefore: range.createdBefore,
              NextToken: nextToken,
              MaxResults: 1000,
            }),
          );
          for (const job of page.RestoreJobs ?? []) {
            // ByCreatedAfter/Before are inclusive on some dates; keep the window closed-open.
            const created = job.CreationDate?.getTime();
            if (
              created !== undefined &&
              (created < range.createdAfter.getTime() || created >= range.createdBefore.getTime())
            )
              continue;
            jobs.push(summarize(job));
          }
          nextToken = page.NextToken;
        } while (nextToken);
      } catch (error) {
        const reason = describeBackupError(error, 'listing AWS Backup restore jobs');
        evidence.add({
          kind: 'api',
          label: 'restore jobs',
          service: 'backup',
          operation: 'ListRestoreJobs',
          request: {
            ByCreatedAfter: range.createdAfter.toISOString(),
            ByCreatedBefore: range.createdBefore.toISOString(),
          },
          response: { error: (error as { name?: string }).name ?? 'Error', reason },
          at: new Date().toISOString(),
        });
        throw new ControlCheckError(reason, { cause: error });
      }
      evidence.add({
        kind: 'api',
        label: 'restore jobs',
        service: 'backup',
        operation: 'ListRestoreJobs',
        request: {
          ByCreatedAfter: range.createdAfter.toISOString(),
          ByCreatedBefore: range.createdBefore.toISOString(),
        },
        response: { RestoreJobs: jobs.map(jobEvidence) },
        at: new Date().toISOString(),
      });
      return jobs;
    },
  };
}

/** What the restore-validator Lambda needs from AWS Backup. */
export function makeBackupRestorePort(client: BackupClient): BackupRestorePort {
  return {
    async describeRestoreJob(restoreJobId, evidence) {
      let job: RestoreJobSummary;
      try {
        job = summarize(await client.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId })));
      } catch (error) {
        throw new ControlCheckError(describeBackupError(error, `describing restore job ${restoreJobId}`), {
          cause: error,
        });
      }
      evidence.add({
        kind: 'api',
        label: `restore job ${restoreJobId}`,
        service: 'backup',
        operation: 'DescribeRestoreJob',
        request: { RestoreJobId: restoreJobId },
        response: jobEvidence(job),
        at: new Date().toISOString(),
      });
      return job;
    },
    async putRestoreValidationResult(restoreJobId, status, message) {
      await client.send(
        new PutRestoreValidationResultCommand({
          RestoreJobId: restoreJobId,
          ValidationStatus: status,
          ValidationStatusMessage: message,
        }),
      );
    },
  };
}
