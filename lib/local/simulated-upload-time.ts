/**
 * The object metadata (`x-amz-meta-…`) by which a seeded object states when it was uploaded. S3
 * itself sets `LastModified` to the moment of the upload; the demo replays a year in seconds, so its
 * emulator honours this instead (local-services.ts), and a check that brackets reports by upload
 * time (the vulnerability scan) sees each weekly report uploaded in its week.
 */
export const SIMULATED_UPLOAD_TIME_METADATA = 'soc2-demo-uploaded-at';
