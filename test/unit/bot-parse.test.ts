import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCommandError, parseAccessCommand, USAGE } from '../../bot/commands/parse.js';

const GRANT = 'g_abcdefghijklmnopqrstuvwxyz';
const REQUEST = 'r_234567abcdefghijklmnopqrst';

describe('parseAccessCommand: the usages', () => {
  it('when the text is empty, then the modal opens', () => {
    expect(parseAccessCommand('')).toEqual({ kind: 'modal' });
    expect(parseAccessCommand('   ')).toEqual({ kind: 'modal' });
  });

  it('when the text is a plain sub-command, then it is recognised in any case', () => {
    expect(parseAccessCommand('help')).toEqual({ kind: 'help' });
    expect(parseAccessCommand('LIST')).toEqual({ kind: 'list' });
    expect(parseAccessCommand(' resources ')).toEqual({ kind: 'resources' });
  });

  it('when a resource, role, duration and reason are given, then a request is parsed', () => {
    expect(parseAccessCommand('grafana/viewer 2h INC-123 dashboards')).toEqual({
      kind: 'request',
      resource: 'grafana',
      role: 'viewer',
      durationMs: 7_200_000,
      reason: 'INC-123 dashboards',
      breakGlass: false,
    });
  });

  it('when the role is left out, then it is undefined (the policy picks the first)', () => {
    const parsed = parseAccessCommand('grafana 1h30m INC-123');
    expect(parsed).toMatchObject({
      kind: 'request',
      resource: 'grafana',
      role: undefined,
      durationMs: 5_400_000,
    });
  });

  it('when --break-glass appears anywhere, then it is a break-glass request and not part of the reason', () => {
    for (const text of [
      'db 30m outage --break-glass',
      '--break-glass db 30m outage',
      'db --break-glass 30m outage',
      'db 30m outage —break-glass',
    ]) {
      expect(parseAccessCommand(text), text).toMatchObject({
        kind: 'request',
        resource: 'db',
        reason: 'outage',
        breakGlass: true,
      });
    }
  });

  it('when the reason has odd spacing, then it is collapsed to single spaces', () => {
    expect(parseAccessCommand('grafana 2h  INC-1\t\tlooking   at\u00a0it')).toMatchObject({
      reason: 'INC-1 looking at it',
    });
  });

  it('when revoke has a grant id and a reason, then both are kept', () => {
    expect(parseAccessCommand(`revoke ${GRANT} done early`)).toEqual({
      kind: 'revoke',
      grantId: GRANT,
      reason: 'done early',
    });
    expect(parseAccessCommand(`revoke ${GRANT}`)).toEqual({ kind: 'revoke', grantId: GRANT, reason: '' });
  });

  it('when an id is pasted in upper case, then it is accepted', () => {
    expect(parseAccessCommand(`cancel ${REQUEST.toUpperCase()}`)).toEqual({
      kind: 'cancel',
      requestId: REQUEST,
    });
  });

  it('when extend has an id, a duration and maybe a reason, then it is parsed', () => {
    expect(parseAccessCommand(`extend ${GRANT} 30m still debugging`)).toEqual({
      kind: 'extend',
      grantId: GRANT,
      durationMs: 1_800_000,
      reason: 'still debugging',
    });
    expect(parseAccessCommand(`extend ${GRANT} 1h`)).toMatchObject({ kind: 'extend', reason: '' });
  });
});

describe('parseAccessCommand: the refusals say what was wrong and show the right form', () => {
  const cases: [string, RegExp, string][] = [
    ['grafana', /not a command/, USAGE.request],
    ['frobnicate', /`frobnicate` is not a command/, USAGE.request],
    ['grafana 2h', /Say why you need access/, USAGE.request],
    ['grafana 2h --break-glass', /Say why you need access/, USAGE.request],
    ['grafana tomorrow INC-1', /`tomorrow` is not a duration/, USAGE.request],
    ['grafana 0s INC-1', /`0s` is not a duration/, USAGE.request],
    ['grafana 2h30 INC-1', /not a duration/, USAGE.request],
    ['graf@na 2h INC-1', /not a resource name/, USAGE.request],
    ['graf.ana 2h INC-1', /not a resource name/, USAGE.request],
    ['grafana/ 2h INC-1', /not a role name/, USAGE.request],
    ['grafana/a/b 2h INC-1', /more than one \//, USAGE.request],
    ['grafana 2h INC-1 --force', /`--force` is not an option/, USAGE.request],
    ['revoke', /which grant/, USAGE.revoke],
    ['revoke 123', /`123` is not a grant id/, USAGE.revoke],
    [`revoke ${REQUEST}`, /not a grant id/, USAGE.revoke],
    [`revoke ${GRANT} --break-glass`, /only goes with a new request/, USAGE.revoke],
    ['cancel', /which request/, USAGE.cancel],
    [`cancel ${GRANT}`, /not a request id/, USAGE.cancel],
    [`cancel ${REQUEST} please`, /only the request id/, USAGE.cancel],
    ['extend', /which grant/, USAGE.extend],
    [`extend ${GRANT}`, /how much longer/, USAGE.extend],
    [`extend ${GRANT} soon`, /`soon` is not a duration/, USAGE.extend],
    ['extend nope 1h', /`nope` is not a grant id/, USAGE.extend],
    ['list everything', /takes nothing after it/, '/access list'],
  ];
  it.each(cases)('when the text is %j, then the error matches %s', (text, error, usage) => {
    const parsed = parseAccessCommand(text);
    expect(isCommandError(parsed)).toBe(true);
    expect(parsed).toMatchObject({
      error: expect.stringMatching(error),
      usage: expect.stringContaining(usage),
    });
  });

  it('when the input is long, then the quoted part is clipped', () => {
    const parsed = parseAccessCommand(`grafana ${'x'.repeat(500)} why`);
    expect(isCommandError(parsed) && parsed.error.length).toBeLessThan(120);
  });
});

describe('parseAccessCommand: properties', () => {
  const word = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/\s/.test(s));
  const anyText = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc
      .array(
        fc.oneof(
          word,
          fc.constantFrom(
            '--break-glass',
            'revoke',
            'extend',
            'cancel',
            '2h',
            '1h30m',
            GRANT,
            'grafana/viewer',
          ),
        ),
        { maxLength: 8 },
      )
      .map((ws) => ws.join(' ')),
  );

  it('when given any text, then it never throws and returns a command or an error with a usage', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const parsed = parseAccessCommand(text);
        if (isCommandError(parsed)) return parsed.error.length > 0 && parsed.usage.startsWith('/access');
        return typeof parsed.kind === 'string';
      }),
      { numRuns: 2000 },
    );
  });

  it('when a request is accepted, then it has a reason and a positive duration that was written as one', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const parsed = parseAccessCommand(text);
        if (isCommandError(parsed) || parsed.kind !== 'request') return true;
        const [, duration] = text.split(/\s+/u).filter((w) => w && !/break-glass$/i.test(w));
        return (
          parsed.reason.trim().length > 0 && parsed.durationMs > 0 && /^(\d+[dhms])+$/i.test(duration ?? '')
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('when the reason is left out, then no request is ever accepted', () => {
    const duration = fc.constantFrom('30s', '15m', '2h', '1h30m', '1d', 'soon', '0m');
    fc.assert(
      fc.property(fc.constantFrom('grafana', 'db/admin', 'x'), duration, fc.boolean(), (target, d, flag) => {
        const parsed = parseAccessCommand(`${target} ${d}${flag ? ' --break-glass' : ''}`);
        return isCommandError(parsed);
      }),
    );
  });
});

describe('parseAccessCommand: names', () => {
  it('when the resource or role is typed in capitals, then it is read in lower case like the policy', () => {
    expect(parseAccessCommand('Grafana/Viewer 1h INC-9')).toMatchObject({
      resource: 'grafana',
      role: 'viewer',
    });
  });
});
