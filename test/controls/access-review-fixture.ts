/** What PostgreSQL's catalog says of the reference accounts table and audit log (access review's unit tests). */
export const AS_OF = '2026-10-01T00:30:00.000Z';
export const CUTOFF = '2026-07-03T00:30:00.000Z'; // AS_OF - P90D

export const userColumns = [
  { column_name: 'username', data_type: 'text' },
  { column_name: 'enabled', data_type: 'boolean' },
  { column_name: 'last_login_at', data_type: 'timestamp with time zone' },
  { column_name: 'created_at', data_type: 'timestamp without time zone' },
  { column_name: 'removed_at', data_type: 'date' },
];
export const logColumns = [
  { column_name: 'timestamp', data_type: 'timestamp with time zone' },
  { column_name: 'user_id', data_type: 'integer' },
  { column_name: 'action', data_type: 'character varying' },
  { column_name: 'success', data_type: 'boolean' },
];
