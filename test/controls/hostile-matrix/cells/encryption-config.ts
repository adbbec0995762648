import { defineMatrix } from '../matrix.ts';

export const encryptionConfigMatrix = defineMatrix({
  source:
    'a PostgreSQL server of its own (TLS switched with ALTER SYSTEM, every session counted); "judge" cells feed states a real server cannot be made to show to the pure verdict',
  cells: {
    'tls-off': {
      case: 'empty',
      plants: 'the server has ssl = off (no encryption to find)',
      verdict: 'fail',
      reason: /^ssl is off on "plain": connections cannot be encrypted$/,
    },
    'control-tls-everywhere': {
      case: 'control',
      plants: 'ssl on, this session over TLS, ssl_min_protocol_version TLSv1.2 (exactly the limit), SCRAM',
      verdict: 'pass',
    },
    'plaintext-own-connection': {
      case: 'stale',
      plants: 'the check itself connects without TLS to a TLS server',
      verdict: 'fail',
      reason: /^this check's own connection to "plain" is not encrypted$/,
    },
    'min-tls-one-below': {
      case: 'boundary',
      plants: 'ssl_min_protocol_version TLSv1.1, one below the required TLSv1.2',
      verdict: 'fail',
      reason: /^ssl_min_protocol_version is TLSv1.1 on "tls", older than TLSv1.2$/,
    },
    'md5-passwords': {
      case: 'stale',
      plants: 'password_encryption = md5',
      verdict: 'fail',
      reason: /^password_encryption is md5 on "tls", expected scram-sha-256$/,
    },
    'settings-hidden': {
      case: 'privileges',
      plants: 'the checking role lacks pg_read_all_settings (ssl_min_protocol_version reads as NULL)',
      verdict: 'error',
      reason: /hidden from role hm_en_checker .*\(GRANT pg_read_all_settings TO "hm_en_checker"\)/,
    },
    'sessions-invisible': {
      case: 'privileges',
      plants: "another role's plaintext session, checked by a role without pg_read_all_stats",
      verdict: 'error',
      reason: /pg_read_all_stats privilege \(GRANT pg_read_all_stats TO "hm_en_checker"\)/,
    },
    'sessions-invisible-strict': {
      case: 'privileges',
      plants: 'the same, with invisibleSessions: fail',
      verdict: 'fail',
      reason: /pg_read_all_stats privilege/,
    },
    'other-plaintext-sessions': {
      case: 'duplicates',
      plants: 'three plaintext sessions of another role, seen with pg_read_all_stats',
      verdict: 'fail',
      reason: /^3 other client connections to "checker" are not encrypted$/,
    },
    'role-name-needing-quotes': {
      case: 'strings',
      plants:
        'a checking role named hm "quoted" without the settings grant: the GRANT it is told to run is quoted',
      verdict: 'error',
      reason: /GRANT pg_read_all_settings TO "hm ""quoted"""/,
    },
    'judge-own-tls-row-null': {
      case: 'nulls',
      plants: "judge: pg_stat_ssl has no row for the check's own session (own_ssl NULL)",
      verdict: 'fail',
      reason: /own connection to "t" is not encrypted/,
    },
    'judge-settings-null': {
      case: 'nulls',
      plants: 'judge: ssl, password_encryption and server_version read as NULL',
      verdict: 'error',
      reason: /^setting ssl is not visible on "t"$/,
    },
    'judge-unknown-tls-version': {
      case: 'types',
      plants: "judge: ssl_min_protocol_version 'TLSv1.4' (not a version the check knows)",
      verdict: 'error',
      reason: /not a known TLS version/,
    },
    unreachable: {
      case: 'privileges',
      plants: 'the server refuses the connection',
      verdict: 'error',
      reason: /^database "down" is unreachable/,
    },
  },
});
