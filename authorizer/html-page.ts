/**
 * The one shell of every page jitgate answers itself (refusals, sign-in, the request form, the
 * command-line redeem): the same head, style and footer, and one way of escaping text into it.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe to place in HTML (element content or a quoted attribute). */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}' +
  'code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}small{color:#777}';

export interface HtmlPage {
  /** Plain text: escaped here. */
  title: string;
  /** HTML: the caller escapes what it puts in. */
  body: string;
  status: number;
  /** The refusal or answer code shown in the footer (plain text). */
  code: string;
  /** More CSS after the common style. */
  style?: string;
  /** More HTML for the footer line (e.g. a sign-out link). */
  footer?: string;
  /** HTML after the footer (e.g. a script carrying the page's CSP nonce). */
  tail?: string;
}

/**
 * A whole page.
 *
 * @example htmlPage({ title: 'no access', body: `<h1>${escapeHtml(msg)}</h1>`, status: 403, code: 'no_grant' })
 */
export function htmlPage(page: HtmlPage): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>jitgate: ${escapeHtml(page.title)}</title>
<style>${STYLE}${page.style ?? ''}</style></head>
<body>${page.body}
<p><small>jitgate · ${page.status} · <code>${escapeHtml(page.code)}</code>${page.footer ?? ''}</small></p>${page.tail ?? ''}</body></html>
`;
}
