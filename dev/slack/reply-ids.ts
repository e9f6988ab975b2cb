/** The first request id (`r_…`) in a text the bot wrote (a reply, a message, a DM). */
export function requestIdIn(text: string): string {
  const m = /\br_[a-z2-7]{26}\b/.exec(text);
  if (!m) throw new Error(`no request id in: ${text.slice(0, 300)}`);
  return m[0];
}

/** The first grant id (`g_…`) in a text the bot wrote. */
export function grantIdIn(text: string): string {
  const m = /\bg_[a-z2-7]{26}\b/.exec(text);
  if (!m) throw new Error(`no grant id in: ${text.slice(0, 300)}`);
  return m[0];
}
