import { createHash } from 'node:crypto';
import type { ComplianceReport } from '#shared/compliance/report';

/**
 * The compliance report as a printable HTML page (`format=html`): no script, no external resource,
 * every value escaped; its one style sheet is allowed by hash in a CSP that allows nothing else.
 */

export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text and attribute values: the five characters HTML gives meaning to, as entities. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #111; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #999; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
.status { font-weight: bold; text-transform: uppercase; }
.pass .status { color: #146c2e; } .warn .status { color: #8a5a00; } .fail .status { color: #b00020; }
.meta { color: #444; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
`;

/**
 * The page's Content-Security-Policy: nothing may load or run; the inline style sheet above is
 * allowed by its SHA-256 (CSP Level 2 hash sources), so an injected `<style>` would not apply either.
 */
export const COMPLIANCE_HTML_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const cell = (value: unknown) =>
  `<td>${value === undefined || value === null ? '—' : escapeHtml(value)}</td>`;
const row = (values: readonly unknown[]) => `<tr>${values.map(cell).join('')}</tr>`;
const head = (names: readonly string[]) =>
  `<tr>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>`;
const table = (names: readonly string[], rows: readonly (readonly unknown[])[], empty: string) =>
  rows.length === 0
    ? `<p>${escapeHtml(empty)}</p>`
    : `<table><thead>${head(names)}</thead><tbody>${rows.map(row).join('')}</tbody></table>`;

export function complianceHtml(report: ComplianceReport): string {
  const { tenant, access, data, audit } = report;
  const checks = report.checks
    .map(
      (check) =>
        `<tr class="check ${escapeHtml(check.status)}" data-check-id="${escapeHtml(check.id)}">` +
        `<td>${escapeHtml(check.title)}</td><td class="status">${escapeHtml(check.status)}</td>` +
        `<td>${escapeHtml(check.evidence)}</td></tr>`,
    )
    .join('');
  const incomplete = (complete: boolean, what: string) =>
    complete
      ? ''
      : `<p class="meta">Not every ${escapeHtml(what)} is listed: the report's bound was reached.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Compliance report: ${escapeHtml(tenant.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Compliance report: ${escapeHtml(tenant.name)}</h1>
<p class="meta">Tenant ${escapeHtml(tenant.id)} (${escapeHtml(tenant.status)}, plan ${escapeHtml(tenant.plan)}). Generated at ${escapeHtml(report.generatedAt)}.</p>
<h2>Checks</h2>
<table id="checks"><thead>${head(['Check', 'Status', 'Evidence'])}</thead><tbody>${checks}</tbody></table>
<h2>Access</h2>
<h3>Members (${access.members.length})</h3>
${incomplete(access.membersComplete, 'member')}
${table(
  ['Email', 'User id', 'Role', 'Inherited from', 'Last sign-in', 'Second factor'],
  access.members.map((m) => [
    m.email,
    m.userId,
    m.role,
    m.inheritedFrom,
    m.lastSignInAt,
    m.mfa === undefined ? undefined : m.mfa ? 'yes' : 'no',
  ]),
  'No members.',
)}
<h3>Privileged changes, last ${escapeHtml(report.thresholds.privilegedChangeDays)} days (${access.privilegedChanges.length})</h3>
${incomplete(access.privilegedChangesComplete, 'privileged change')}
${table(
  ['At', 'Action', 'By', 'Resource', 'Details'],
  access.privilegedChanges.map((c) => [c.at, c.action, c.userId, c.resource, JSON.stringify(c.details)]),
  'No privileged changes in the window.',
)}
<h2>Data</h2>
${table(
  ['Database', 'Cluster', 'Region', 'Encrypted at rest'],
  data.databases.map((d) => [d.databaseId, d.cluster, d.region, d.encrypted ? 'yes' : 'no']),
  'No databases.',
)}
<p>Latest completed backup: ${escapeHtml(data.backups.latestCompletedAt ?? 'none')}. Backups kept: ${escapeHtml(
    data.backups.retentionDays === undefined ? 'unknown' : `${data.backups.retentionDays} days`,
  )}.</p>
<h2>Audit</h2>
<p>Audit records are kept ${escapeHtml(audit.retentionDays)} days. ${escapeHtml(audit.complete ? '' : 'At least ')}${escapeHtml(
    audit.records,
  )} records from ${escapeHtml(audit.window.from)} to ${escapeHtml(audit.window.to)}.</p>
</body>
</html>
`;
}
