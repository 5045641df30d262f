// POSIX extended regular expressions (regcomp REG_EXTENDED|REG_ICASE|REG_NEWLINE, as htable's
// sht_rm_*_re and the DMQ action 5 of protocol reference §6.3 use them) mapped onto JS RegExp:
// bracket classes like [[:digit:]] are translated; an invalid pattern is a value, not a throw.

const CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: '\\x20-\\x7e', graph: '\\x21-\\x7e',
};

export function posixRegex(pattern: string): RegExp | null {
  const js = pattern.replace(/\[:([a-z]+):\]/g, (m, name: string) => CLASSES[name] ?? m);
  try {
    return new RegExp(js, 'im');
  } catch {
    return null;
  }
}
