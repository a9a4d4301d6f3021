/** Command lines the CLI prints for a user to type next: quoted for a POSIX shell, so they work as printed. */

export function commandLine(words: string[]): string {
  return words.map(shellQuote).join(" ");
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
