import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AskStatus } from '../../shared/asks/index.js';
import { formatDuration } from '../../shared/duration.js';
import { MAX_REASON, type Resource } from '../../shared/policy/index.js';
import { escapeHtml as h, htmlPage } from '../html-page.js';

/** The form's values and its error when it comes back with bad input. */
export interface FormState {
  role?: string;
  duration?: string;
  reason?: string;
  error?: { field: 'role' | 'duration' | 'reason' | 'form'; message: string };
}

/**
 * The request form (a fragment, for any refusal page of a signed-in person): only the resource's
 * roles, its default duration and its maximum, a reason, and the hidden anti-forgery token and
 * return path. Posts to `/_jitgate/ask` on the page's own host.
 */
export function requestForm(
  resource: Resource,
  hidden: { csrf: string; returnPath: string },
  state: FormState = {},
): string {
  const roles = resource.roles
    .map((r) => {
      const selected = r.name === (state.role ?? resource.roles[0]!.name) ? ' selected' : '';
      const what = r.methods.includes('*') ? 'any method' : r.methods.join(', ');
      return `<option value="${h(r.name)}"${selected}>${h(r.name)} (${h(what)})</option>`;
    })
    .join('');
  const error = state.error
    ? `<p class="error" id="ask-error" role="alert" data-field="${h(state.error.field)}">${h(state.error.message)}</p>`
    : '';
  return `<form method="post" action="/_jitgate/ask" id="ask">
<input type="hidden" name="csrf" value="${h(hidden.csrf)}">
<input type="hidden" name="resource" value="${h(resource.name)}">
<input type="hidden" name="return" value="${h(hidden.returnPath)}">
<label>Role <select name="role">${roles}</select></label>
<label>For how long <input name="duration" value="${h(state.duration ?? formatDuration(resource.defaultDurationMs))}" size="8">
<small>at most ${h(formatDuration(resource.maxDurationMs))}, e.g. 30m, 2h, 1h30m</small></label>
<label>Why <textarea name="reason" rows="3" maxlength="${MAX_REASON}" placeholder="INC-123 dashboards">${h(state.reason ?? '')}</textarea></label>
${error}<button type="submit">Ask for access</button>
</form>`;
}

const FORM_STYLE =
  'label{display:block;margin:.8rem 0}select,input,textarea{font:inherit;display:block;margin-top:.2rem}' +
  'textarea{width:100%}.error{color:#b00020}button{font:inherit;padding:.4rem 1rem}';

/** A page of jitgate's own: no framing, no other origin, scripts only with its nonce. */
export function sendPage(
  res: ServerResponse,
  status: number,
  page: { title: string; body: string; script?: string; code: string },
): void {
  const nonce = randomBytes(16).toString('base64');
  const script = page.script ? `<script nonce="${nonce}">${page.script}</script>` : '';
  const html = htmlPage({
    title: page.title,
    body: page.body,
    status,
    code: page.code,
    style: FORM_STYLE,
    footer: ' · <a href="/_jitgate/logout">sign out</a>',
    tail: script,
  });
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    // Not no-referrer: with it, browsers send `Origin: null` with the form's POST, which is refused.
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  });
  res.end(html);
}

/** "Signed in as … — you have no access to …", why, and the form (or the Slack command). */
export function noAccessBody(who: string, resource: Resource, why: string, form: string): string {
  return `<h1>Signed in as ${h(who)} — you have no access to ${h(resource.name)}</h1>
<p id="why">${h(why)}</p>
<h2>Ask for access</h2>
<p>Your approvers are asked in Slack; this page goes on to ${h(resource.name)} by itself once one approves.</p>
${form}
<p><small>Or type <code>/access ${h(resource.name)} ${h(formatDuration(resource.defaultDurationMs))} &lt;why&gt;</code> in Slack.</small></p>`;
}

/**
 * The page that follows an ask: it polls the status (same origin, with the session's cookie) and
 * goes back to where the person was refused once approved, or says how it ended.
 */
export function waitingBody(
  resource: Resource,
  requestId: string,
  status: AskStatus,
  statusUrl: string,
): {
  body: string;
  script: string;
} {
  const body = `<h1>Access to ${h(resource.name)}: request <code>${h(requestId)}</code></h1>
<p id="ask-status" data-state="${h(status.state)}" data-status-url="${h(statusUrl)}" aria-live="polite">${h(status.message)}</p>
<p id="ask-again" hidden><a href="${h(status.continueTo ?? '')}" id="ask-again-link">Back to ${h(resource.name)}</a></p>
<noscript><p>Reload this page to see whether your request was decided.</p></noscript>`;
  const script = `(function(){
var el=document.getElementById('ask-status');var again=document.getElementById('ask-again');var link=document.getElementById('ask-again-link');
function show(s){el.textContent=s.message;el.dataset.state=s.state;}
function poll(){fetch(el.dataset.statusUrl,{credentials:'same-origin',cache:'no-store',headers:{accept:'application/json'}})
.then(function(r){return r.json();}).then(function(s){show(s);
if(s.state==='approved'&&typeof s.continueTo==='string'&&s.continueTo.charAt(0)==='/'&&s.continueTo.charAt(1)!=='/'){location.replace(s.continueTo);return;}
if(s.state==='queued'||s.state==='pending'){setTimeout(poll,1000);return;}
if(typeof s.back==='string'){link.href=s.back;again.hidden=false;}})
.catch(function(){setTimeout(poll,3000);});}
setTimeout(poll,500);})();`;
  return { body, script };
}
