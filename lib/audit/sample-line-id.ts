/**
 * Finds a population line's top-level `id` without building the item: a byte-level JSON
 * validator that accepts exactly what `JSON.parse` of the line (decoded as UTF-8) accepts, and
 * reports where the id's characters are when that id is a non-empty string of ASCII characters
 * written without escapes (what every id the population writer produced so far looks like).
 * Anything else (an escape in the id or in a top-level key that reads "id", a non-ASCII id, nesting deeper than
 * {@link MAX_DEPTH}, invalid JSON, no id) answers `false` and the caller parses the line in full,
 * so an unusual line is slower, never read differently. A property test compares it with
 * `JSON.parse` on generated and mutated lines.
 */

/** Deeper lines are left to `JSON.parse` (the scanner recurses). */
export const MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;

/** String classes from {@link scanString}. */
const INVALID = -1;
const PLAIN = 0;
const NON_ASCII = 1;
const ESCAPED = 2;

/** Where the id is, when {@link findLineId} answers true: `bytes[idStart..idEnd)`. */
export interface LineIdRange {
  idStart: number;
  idEnd: number;
}

// The scan's cursor, in module variables rather than an object passed around: it runs once per
// line, millions of times, synchronously (one scan at a time), and the functions stay monomorphic.
let bytes: Uint8Array = new Uint8Array(0);
let pos = 0;
let limit = 0;
let idStart = -1;
let idEnd = -1;
let idUsable = false;

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

function skipWhitespace(): void {
  while (pos < limit) {
    const c = bytes[pos];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos += 1;
    else return;
  }
}

/** At an opening quote: moves past the closing one; the string's class, or INVALID. */
function scanString(): number {
  pos += 1;
  let kind = PLAIN;
  for (;;) {
    if (pos >= limit) return INVALID;
    const c = bytes[pos] as number;
    pos += 1;
    if (c === QUOTE) return kind;
    if (c === BACKSLASH) {
      kind = ESCAPED;
      if (pos >= limit) return INVALID;
      const escaped = bytes[pos] as number;
      pos += 1;
      if (escaped === 0x75) {
        if (pos + 4 > limit) return INVALID;
        for (let i = 0; i < 4; i += 1) if (!isHex(bytes[pos + i])) return INVALID;
        pos += 4;
      } else if (
        escaped !== QUOTE &&
        escaped !== BACKSLASH &&
        escaped !== 0x2f &&
        escaped !== 0x62 &&
        escaped !== 0x66 &&
        escaped !== 0x6e &&
        escaped !== 0x72 &&
        escaped !== 0x74
      )
        return INVALID;
    } else if (c < 0x20) return INVALID;
    else if (c >= 0x80 && kind === PLAIN) kind = NON_ASCII;
  }
}

function scanNumber(): boolean {
  if (bytes[pos] === MINUS) pos += 1;
  if (pos >= limit) return false;
  const first = bytes[pos];
  if (first === 0x30) pos += 1;
  else if (isDigit(first)) while (pos < limit && isDigit(bytes[pos])) pos += 1;
  else return false;
  if (pos < limit && bytes[pos] === DOT) {
    pos += 1;
    if (pos >= limit || !isDigit(bytes[pos])) return false;
    while (pos < limit && isDigit(bytes[pos])) pos += 1;
  }
  if (pos < limit && (bytes[pos] === 0x65 || bytes[pos] === 0x45)) {
    pos += 1;
    if (pos < limit && (bytes[pos] === PLUS || bytes[pos] === MINUS)) pos += 1;
    if (pos >= limit || !isDigit(bytes[pos])) return false;
    while (pos < limit && isDigit(bytes[pos])) pos += 1;
  }
  return true;
}

function scanLiteral(text: readonly number[]): boolean {
  if (pos + text.length > limit) return false;
  for (let i = 0; i < text.length; i += 1) if (bytes[pos + i] !== text[i]) return false;
  pos += text.length;
  return true;
}
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function scanValue(depth: number): boolean {
  if (pos >= limit) return false;
  const c = bytes[pos];
  if (c === QUOTE) return scanString() !== INVALID;
  if (c === OPEN_BRACE) return scanObject(depth + 1, false);
  if (c === OPEN_BRACKET) return scanArray(depth + 1);
  if (c === 0x74) return scanLiteral(TRUE);
  if (c === 0x66) return scanLiteral(FALSE);
  if (c === 0x6e) return scanLiteral(NULL);
  if (c === MINUS || isDigit(c)) return scanNumber();
  return false;
}

function scanArray(depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  pos += 1;
  skipWhitespace();
  if (bytes[pos] === CLOSE_BRACKET && pos < limit) {
    pos += 1;
    return true;
  }
  for (;;) {
    if (!scanValue(depth)) return false;
    skipWhitespace();
    if (pos >= limit) return false;
    const c = bytes[pos];
    pos += 1;
    if (c === CLOSE_BRACKET) return true;
    if (c !== COMMA) return false;
    skipWhitespace();
  }
}

/** Whether the escaped string literal `bytes[from..to)` (quotes included) reads "id". */
function escapedKeyIsId(from: number, to: number): boolean {
  return (
    JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1')) === 'id'
  );
}

/** An object; at the top level, remembers the last `id` member (JSON.parse keeps the last duplicate). */
function scanObject(depth: number, top: boolean): boolean {
  if (depth > MAX_DEPTH) return false;
  pos += 1;
  skipWhitespace();
  if (bytes[pos] === CLOSE_BRACE && pos < limit) {
    pos += 1;
    return true;
  }
  for (;;) {
    if (pos >= limit || bytes[pos] !== QUOTE) return false;
    const keyStart = pos + 1;
    const keyKind = scanString();
    if (keyKind === INVALID) return false;
    const keyLength = pos - 1 - keyStart;
    // An escaped top-level key might spell "id" ("\u0069d"): two characters, each at most a
    // 6-byte escape, so only keys of up to 12 bytes can; those few are decoded by JSON.parse.
    if (top && keyKind === ESCAPED && keyLength <= 12 && escapedKeyIsId(keyStart - 1, pos)) return false;
    const isId =
      top && keyKind === PLAIN && keyLength === 2 && bytes[keyStart] === 0x69 && bytes[keyStart + 1] === 0x64;
    skipWhitespace();
    if (pos >= limit || bytes[pos] !== COLON) return false;
    pos += 1;
    skipWhitespace();
    if (isId) {
      if (pos < limit && bytes[pos] === QUOTE) {
        const valueStart = pos + 1;
        const valueKind = scanString();
        if (valueKind === INVALID) return false;
        idStart = valueStart;
        idEnd = pos - 1;
        idUsable = valueKind === PLAIN && idEnd > idStart;
      } else {
        if (!scanValue(depth)) return false;
        idUsable = false;
        idStart = -1;
      }
    } else if (!scanValue(depth)) return false;
    skipWhitespace();
    if (pos >= limit) return false;
    const c = bytes[pos];
    pos += 1;
    if (c === CLOSE_BRACE) return true;
    if (c !== COMMA) return false;
    skipWhitespace();
  }
}

/**
 * True when `source[start..end)` is one JSON object whose top-level `id` is a non-empty ASCII
 * string without escapes; its characters are then `source[range.idStart..range.idEnd)`. False
 * means "parse this line in full": it may still be valid (see the module comment).
 */
export function findLineId(source: Uint8Array, start: number, end: number, range: LineIdRange): boolean {
  bytes = source;
  pos = start;
  limit = end;
  idStart = -1;
  idEnd = -1;
  idUsable = false;
  skipWhitespace();
  if (pos >= limit || bytes[pos] !== OPEN_BRACE) return false;
  if (!scanObject(1, true)) return false;
  skipWhitespace();
  if (pos !== limit || !idUsable) return false;
  range.idStart = idStart;
  range.idEnd = idEnd;
  return true;
}
