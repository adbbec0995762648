/** Connection strings carry passwords; they must never reach evidence, logs or notifications. */
export function redactConnectionStrings(text: string): string {
  return text.replace(/postgres(?:ql)?:\/\/[^\s"']+/gi, 'postgres://[redacted]');
}
