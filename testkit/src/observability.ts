import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** What PromQL words are when they are not metric names. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/**
 * The metric names a PromQL expression reads: every identifier that is not a function or
 * aggregation (followed by `(`), a keyword, a label (inside `{}` or a `by (...)` list), a string,
 * a duration (`[5m]`), a number or a Grafana variable (`$__rate_interval`). Enough for the
 * expressions of our dashboards and rules; an unknown construct yields a name too many, which
 * the coverage test then reports rather than hides.
 */
export function promqlMetricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings (label values, label_replace args)
    .replace(/#[^\n]*/g, ' ') // comments
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (call || KEYWORDS.has(word!.toLowerCase())) continue;
    names.add(word!);
  }
  return [...names];
}

/**
 * The metric names a /metrics page exports: every sample's name, and for each declared family
 * the series it will have once observed (a labelled counter or histogram with no observation yet
 * shows only its `# TYPE` line).
 */
export function exportedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name!);
      if (kind === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_count', '_sum']) names.add(name + s);
      continue;
    }
    const sample = /^([A-Za-z_:][\w:]*)[\s{]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

/** One PromQL expression of a dashboard panel or an alert rule, and where it is. */
export interface Query {
  where: string;
  expr: string;
}

/** Every `expr` of every Grafana dashboard JSON in `dir` (panels, nested rows, templating queries). */
export function dashboardQueries(dir: string): Query[] {
  const out: Query[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'expr' && typeof v === 'string') out.push({ where: `${file}${path}`, expr: v });
          else walk(v, `${path}.${k}`);
        }
      }
    };
    walk(JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown, '');
  }
  return out;
}

/** Every rule's `expr` in a Prometheus rules file. */
export function ruleQueries(file: string): Query[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `${g.name}/${r.alert ?? r.record}`, expr: String(r.expr) })));
}

/** Names Prometheus itself makes for every target, not exported by any process. */
export const PROMETHEUS_SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** The queries that read a metric `exported` does not have, with the names missing. */
export function unknownMetrics(queries: Query[], exported: ReadonlySet<string>): { where: string; missing: string[] }[] {
  return queries
    .map((q) => ({ where: q.where, missing: promqlMetricNames(q.expr).filter((n) => !exported.has(n) && !PROMETHEUS_SYNTHETIC.has(n)) }))
    .filter((q) => q.missing.length > 0);
}
