// The easy6502 tutorial's dialect, turned into ca65 source line for line (so
// errors keep their line numbers): `define NAME value`, `dcb 1, $02`,
// `*=$0600` for an origin; code starts at $0600 unless told otherwise (the
// assembler's `org` option). Numbers are `$hex` and decimal, as the
// tutorial writes them; a hex address written with three or four digits is
// absolute even below $100 (`lda $00ff`), as the tutorial's assembler reads it.
//
// `define` works on text, as there: the name is replaced in later operands.
//
// How to drive this: `assemble(source, { dialect: 'easy6502' })`;
// `translateEasy6502(source)` gives the ca65 text itself.

const DEFINE = /^(\s*)define\s+([A-Za-z_][A-Za-z0-9_]*)\s+([^;]*?)(\s*(;.*)?)$/i;
const DCB = /^(\s*(?:[A-Za-z_][A-Za-z0-9_]*:\s*)?)dcb\b(.*)$/i;
const ORG = /^(\s*)\*\s*=\s*([^;]*?)(\s*(;.*)?)$/;
const INSTRUCTION = /^(\s*(?:[A-Za-z_][A-Za-z0-9_]*:\s*)?)([A-Za-z]{3})(\s+)([^;]*?)(\s*(;.*)?)$/;

export function translateEasy6502(source: string): string {
  // `define` replaces text, as the tutorial's assembler does: `define p $00F0` then `lda p` is absolute.
  const defines = new Map<string, string>();
  const substitute = (operand: string) => (defines.size ? operand.replace(/[A-Za-z_][A-Za-z0-9_]*/g, (w) => defines.get(w) ?? w) : operand);
  return source
    .split(/\r\n|\n|\r/)
    .map((line) => {
      let m = DEFINE.exec(line);
      if (m) {
        defines.set(m[2], m[3]);
        return `${m[1]}${m[2]} = ${m[3]}${m[4]}`;
      }
      m = DCB.exec(line);
      if (m) return `${m[1]}.byte${m[2]}`;
      m = ORG.exec(line);
      if (m) return `${m[1]}.org ${m[2]}${m[3]}`;
      m = INSTRUCTION.exec(line);
      if (m && !m[4].startsWith('#')) {
        // $00FF: absolute, as the tutorial's assembler reads a four-digit address.
        const operand = substitute(m[4]).replace(/^(\(?)\$(0[0-9A-Fa-f]{2,3})\b/, (all, paren: string, digits: string) => (parseInt(digits, 16) < 0x100 ? `${paren}a:$${digits}` : all));
        return `${m[1]}${m[2]}${m[3]}${operand.replace(/^\(a:/, '(')}${m[5]}`;
      }
      return line;
    })
    .join('\n');
}
