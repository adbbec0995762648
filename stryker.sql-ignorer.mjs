// A Stryker ignore-plugin: no mutants in SQL text. The mutation run executes only the fast unit
// tests, where sessions are scripted and a mutated query text cannot change what comes back; the
// SQL itself is covered by the integration and differential suites against real PostgreSQL.
// Ignored (with everything inside them):
// - the label and text arguments of `<session>.query(label, text, params)` (the params stay mutated:
//   they carry the period, limits and instants the verdict depends on, and scripted sessions see them);
// - string and template literals that read as SQL (an upper-case keyword or a `::type` cast);
// - a conditional whose both branches, or an arrow function whose body, are such SQL text.

const SQL_TEXT = /\b(SELECT|FROM|WHERE|FILTER|GROUP BY|ORDER BY|AT TIME ZONE|IS NOT NULL|IS TRUE)\b|::[a-z]/;

function literalText(node) {
  if (node.type === 'StringLiteral') return node.value;
  if (node.type === 'TemplateLiteral') return node.quasis.map((quasi) => quasi.value.raw).join(' ');
  return undefined;
}

function producesSql(node) {
  if (!node) return false;
  const text = literalText(node);
  if (text !== undefined) return SQL_TEXT.test(text);
  if (node.type === 'ConditionalExpression')
    return producesSql(node.consequent) && producesSql(node.alternate);
  if (node.type === 'ArrowFunctionExpression') return producesSql(node.body);
  return false;
}

function isQueryTextArgument(path) {
  const call = path.parentPath;
  if (!call?.isCallExpression() || path.listKey !== 'arguments') return false;
  const callee = call.node.callee;
  const isQuery =
    callee.type === 'MemberExpression' &&
    callee.property.type === 'Identifier' &&
    callee.property.name === 'query';
  return isQuery && typeof path.key === 'number' && path.key < 2;
}

export const strykerPlugins = [
  {
    kind: 'Ignore',
    name: 'sql-text',
    value: {
      shouldIgnore(path) {
        if (isQueryTextArgument(path))
          return 'SQL label or text of a session query (covered on real PostgreSQL)';
        if (producesSql(path.node)) return 'SQL text (covered on real PostgreSQL)';
        return undefined;
      },
    },
  },
];
