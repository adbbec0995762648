import {
  type BackupClient,
  DescribeRestoreJobCommand,
  type DescribeRestoreJobOutput,
  ListRestoreJobsCommand,
  PutRestoreValidationResultCommand,
  type RestoreJobsListMember,
} from '@aws-sdk/client-backup';
import type { EvidenceLog } from '../../controls/outcome.ts';
import type { RestoreJobSummary, RestoreTestsPort } from '../../controls/ports.ts';
import type { BackupRestorePort } from '../../restore/restore-validation.ts';
import { recordAwsCall } from '../aws-call-evidence.ts';

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

/** AWS Backup restore jobs for the restore-test-history control (`ListRestoreJobs`, every page). */
export function makeBackupRestoreTests(client: BackupClient): RestoreTestsPort {
  return {
    listRestoreJobs: (range, evidence: EvidenceLog) =>
      recordAwsCall(
        {
          evidence,
          label: 'restore jobs',
          service: 'backup',
          operation: 'ListRestoreJobs',
          request: {
            ByCreatedAfter: range.createdAfter.toISOString(),
            ByCreatedBefore: range.createdBefore.toISOString(),
          },
          doing: 'listing AWS Backup restore jobs',
        },
        async () => {
          const jobs: RestoreJobSummary[] = [];
          let nextToken: string | undefined;
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
          return jobs;
        },
        (jobs) => ({ RestoreJobs: jobs.map(jobEvidence) }),
      ),
  };
}

/** What the restore-validator Lambda needs from AWS Backup. */
export function makeBackupRestorePort(client: BackupClient): BackupRestorePort {
  return {
    describeRestoreJob: (restoreJobId, evidence) =>
      recordAwsCall(
        {
          evidence,
          label: `restore job ${restoreJobId}`,
          service: 'backup',
          operation: 'DescribeRestoreJob',
          request: { RestoreJobId: restoreJobId },
          doing: `describing restore job ${restoreJobId}`,
        },
        async () =>
          summarize(await client.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }))),
        jobEvidence,
      ),
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
