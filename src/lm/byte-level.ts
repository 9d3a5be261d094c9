/** GPT-2's byte-level alphabet: every byte as a printable character (tokenizers' ByteLevel pre-tokenizer). */

/** GPT-2's bytes_to_unicode: byte -> printable char; array order = GPT-2's base-vocabulary id order. */
export function bytesToUnicode(): { byteOrder: number[]; chars: Map<number, string> } {
  const bs: number[] = [];
  for (let c = 0x21; c <= 0x7e; c++) bs.push(c);
  for (let c = 0xa1; c <= 0xac; c++) bs.push(c);
  for (let c = 0xae; c <= 0xff; c++) bs.push(c);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const chars = new Map<number, string>();
  bs.forEach((b, i) => chars.set(b, String.fromCharCode(cs[i]!)));
  return { byteOrder: bs, chars };
}

/** Character -> the byte it stands for. */
export function bytesToUnicodeInverse(): Map<string, number> {
  return new Map([...bytesToUnicode().chars].map(([b, c]) => [c, b]));
}
