/** Block Kit as plain terminal text, so the demo can show what people would see in Slack. */
type Block = Record<string, unknown>;

function text(t: unknown): string {
  if (t && typeof t === 'object' && 'text' in t) return String((t as { text: unknown }).text);
  return '';
}

/** Slack's mrkdwn, made readable: mentions, date tokens and links. */
export function plain(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!date\^(\d+)\^[^|>]*\|([^>]*)>/g, (_m, _ts, fallback: string) => fallback)
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<!subteam\^([A-Z0-9]+)[^>]*>/g, '@group:$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/\*([^*\n]+)\*/g, '$1');
}

export function renderBlocks(blocks: unknown, indent = '    │ '): string {
  if (!Array.isArray(blocks)) return '';
  const lines: string[] = [];
  for (const block of blocks as Block[]) {
    switch (block.type) {
      case 'header':
      case 'section':
      case 'context': {
        const parts = [
          text(block.text),
          ...((block.fields as unknown[]) ?? []).map(text),
          ...((block.elements as unknown[]) ?? []).map(text),
        ];
        for (const part of parts.filter(Boolean)) lines.push(...plain(part).split('\n'));
        const accessory = block.accessory as Block | undefined;
        if (accessory?.type === 'button') lines.push(`[ ${text(accessory.text)} ]`);
        break;
      }
      case 'actions': {
        const buttons = ((block.elements as Block[]) ?? []).map((e) => `[ ${text(e.text)} ]`);
        lines.push(buttons.join('  '));
        break;
      }
      case 'divider':
        lines.push('────────');
        break;
    }
  }
  return lines.map((l) => `${indent}${l}`).join('\n');
}
