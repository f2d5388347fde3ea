/**
 * PostgreSQL's text form of an array (`{a,"b c",NULL}`, `{{1,2},{3,4}}`, `[0:1]={x,y}`), read into
 * nested lists of element texts, NULL as null.
 * https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 */
export type ArrayLiteral = (string | null | ArrayLiteral)[];

export function parseArrayLiteral(text: string): ArrayLiteral {
  // Non-default bounds come first: `[1:3]={…}`.
  const start = text.replace(/^(\[[^\]]*\])+=/, '');
  const [value] = parseList(start, 0);
  return value;
}

function parseList(text: string, from: number): [ArrayLiteral, number] {
  if (text[from] !== '{') throw new Error(`not an array literal: ${text}`);
  const items: ArrayLiteral = [];
  let i = from + 1;
  if (text[i] === '}') return [items, i + 1];
  for (;;) {
    const char = text[i];
    if (char === '{') {
      const [inner, next] = parseList(text, i);
      items.push(inner);
      i = next;
    } else if (char === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i += 1;
        value += text[i] ?? '';
        i += 1;
      }
      items.push(value);
      i += 1;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end += 1;
      const value = text.slice(i, end).trim();
      items.push(value.toUpperCase() === 'NULL' ? null : value);
      i = end;
    }
    if (text[i] === ',') i += 1;
    else if (text[i] === '}') return [items, i + 1];
    else throw new Error(`not an array literal: ${text}`);
  }
}
