import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { USAGE } from '../../bot/commands/registry.js';
import { ACTION_IDS } from '../../bot/views/actions.js';

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'), {
  uniqueKeys: true,
  strict: true,
});

describe('manifest.yml', () => {
  it('when parsed, then it declares /access, interactivity and App Home on the one events URL', () => {
    const url = 'https://access.example.com/slack/events';
    expect(manifest.display_information.name).toBe('jitgate');
    expect(manifest.features.bot_user.display_name).toBe('jitgate');
    expect(manifest.features.slash_commands).toEqual([
      expect.objectContaining({
        command: USAGE.modal,
        url,
        should_escape: false,
        usage_hint: expect.any(String),
      }),
    ]);
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: url });
    expect(manifest.settings.event_subscriptions).toEqual({
      request_url: url,
      bot_events: ['app_home_opened'],
    });
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  it('when parsed, then the bot asks for exactly the least scopes that work', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'commands', 'im:write', 'usergroups:read', 'users:read', 'users:read.email'].sort(),
    );
    // User scopes only for Sign in with Slack (OpenID Connect), nothing that reads on the user's behalf.
    expect([...manifest.oauth_config.scopes.user].sort()).toEqual(['email', 'openid', 'profile']);
  });

  it('when sign-in is set up, then Slack sends the browser back to the authorizer callback only', () => {
    expect(manifest.oauth_config.redirect_urls).toEqual([
      'https://access.example.com/_jitgate/oauth2/callback',
    ]);
  });

  it('when Slack checks lengths, then the short fields fit', () => {
    expect(manifest.display_information.description.length).toBeLessThanOrEqual(140);
    expect(manifest.features.slash_commands[0].description.length).toBeLessThanOrEqual(100);
    expect(Object.values(ACTION_IDS).every((id) => id.startsWith('jit_'))).toBe(true);
  });
});
