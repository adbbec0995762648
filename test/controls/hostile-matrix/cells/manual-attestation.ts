import { defineMatrix } from '../matrix.ts';

export const manualAttestationMatrix = defineMatrix({
  source: 'S3 emulator (fauxqs) through the real S3 client; uploads stamped with the real time',
  cells: {
    'control-upload-in-period': {
      case: 'control',
      plants: 'one non-empty upload during the period',
      verdict: 'pass',
    },
    'empty-prefix': {
      case: 'empty',
      plants: 'nothing under the prefix',
      verdict: 'fail',
      reason: /^evidence not provided: expected tabletop notes uploaded under s3:\/\/.* during \d{4}$/,
    },
    'folder-marker-only': {
      case: 'nothing',
      plants: 'only a zero-byte folder marker (key ending in /)',
      verdict: 'fail',
      reason: /^evidence not provided/,
    },
    'zero-byte-upload': {
      case: 'nulls',
      plants: 'an upload with no content',
      verdict: 'fail',
      reason: /^evidence not provided/,
    },
    'folder-key-with-body': {
      case: 'types',
      plants: "a non-empty object whose key ends in '/' (a folder, not a document)",
      verdict: 'fail',
      reason: /^evidence not provided/,
    },
    'uploaded-on-cutoff': {
      case: 'boundary',
      plants: 'the upload is stamped exactly at the check instant (the window is open at its end)',
      verdict: 'fail',
      reason: /^evidence not provided/,
    },
    'uploaded-just-before-cutoff': {
      case: 'boundary',
      plants: 'the upload is stamped 1 ms before the check instant',
      verdict: 'pass',
    },
    'uploaded-after-check': {
      case: 'future',
      plants: 'the upload is stamped a second after the check instant',
      verdict: 'fail',
      reason: /^evidence not provided/,
    },
    'outlier-previous-period': {
      case: 'outlier',
      plants: "the only upload was made in the previous period (checked for next year's period)",
      verdict: 'fail',
      reason: /^evidence not provided/,
    },
    'duplicate-copies': {
      case: 'duplicates',
      plants: 'minObjects 2, met by two copies of the same document under two keys',
      verdict: 'fail',
      reason: /^evidence not provided: .* \(1 of 2 distinct objects; 1 duplicate\)$/,
      before: 'pass',
      fix: 'objects are counted by content (SHA-256), so a copy is not a second piece of evidence',
    },
    'look-alike-period-folder': {
      case: 'strings',
      plants: "with {period} in the prefix, an upload into folder '<period>\\n/' (a control character)",
      verdict: 'fail',
      reason: /^evidence not provided: .* for \d{4}$/,
    },
    'bucket-missing': {
      case: 'privileges',
      plants: 'the configured bucket does not exist (or is not ours to list)',
      verdict: 'error',
      reason: /the bucket does not exist/,
    },
    'no-object-reader': {
      case: 'privileges',
      plants: 'the deployment provides no S3 reader',
      verdict: 'error',
      reason: /no S3 object reader/,
    },
    'stale-other-period-folder': {
      case: 'stale',
      plants: "with {period} in the prefix, evidence only in last year's folder",
      verdict: 'fail',
      reason: /^evidence not provided: .* for \d{4}$/,
    },
  },
});
