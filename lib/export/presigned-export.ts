/** An uploaded export and its time-limited download link. */
export interface PresignedExport {
  readonly key: string;
  readonly url: string;
  readonly expiresAt: string;
}
