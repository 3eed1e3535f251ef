/**
 * A varied text corpus for tokenizer parity tests: fixed cases (English, code, numbers, whitespace
 * runs, emoji, CJK, accents, RTL scripts, chat markup) plus seeded random strings drawn from
 * character pools that stress pre-tokenizer edge cases.
 */

/** Fixed corpus. `specials` are token texts of the model under test, mixed into chat-like strings. */
export function fixedCorpus(specials: readonly string[]): string[] {
  const [a = '<s>', b = '</s>', c = '<unk>'] = specials;
  return [
    'Hello world',
    ' Hello world',
    'Hello, world! How are you doing today?',
    "I'm sure they'll say it's fine, wouldn't you? We've done it; THEY'RE DONE. O'Neil's",
    'The quick brown fox jumps over the lazy dog.',
    'function add(a, b) {\n  return a + b;\n}\n\nconsole.log(add(2, 3));',
    'def fib(n):\n\tif n < 2:\n\t\treturn n\n\treturn fib(n - 1) + fib(n - 2)\n',
    '    indented with four spaces\n        and eight\n',
    'Numbers: 0 1 12 123 1234 12345 1234567890 3.14159 -42 1e-10 0x1F 1,000,000',
    'Whitespace   runs\t\t\ttabs\n\n\nnewlines\r\n\r\nCRLF     end    ',
    '   ',
    '\n',
    ' ',
    '\t',
    '\n\n\n\n',
    'a  b   c    d     e',
    'Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🦀🚀✨',
    '中文测试：你好，世界！这是一个分词器测试。',
    '日本語のテキスト、カタカナとひらがな。',
    '한국어 텍스트입니다.',
    'Accents: café naïve résumé Zürich São Paulo Ångström façade',
    'Decomposed: cafe\u0301 nai\u0308ve',
    'Русский текст и Ελληνικά γράμματα.',
    'العربية: مرحبا بالعالم',
    'हिन्दी में पाठ और संख्याएँ १२३',
    'Mixed🙂text中文and123numbers',
    'URL: https://example.com/path?q=1&r=2#frag <tag attr="v">text</tag>',
    'Symbols: $100 + 50% = ~€150 | a^b <= c >= d != e && f || !g @user #hash',
    "quotes 'single' \"double\" `back` «guillemets» „low“ ‘curly’",
    'Non-breaking\u00a0space, ideographic\u3000space, NEL\u0085, LS\u2028, ZWSP\u200b, BOM\ufeff.',
    'Control chars \u0001\u0002\u001f and DEL\u007f',
    'lone surrogate \ud800 here',
    `${a}inline special${b} and ${c} tokens`,
    `<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n`,
    `<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n`,
    '<|endoftext|><|im_end|>text<|im_start|><unused0> <mask> <pad>',
    '<|im_start|> spaced <|im_end|>',
    'a'.repeat(300),
    ' '.repeat(70) + 'x' + '\n'.repeat(40),
    '!!!???...,,,;;;:::---___===+++',
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE",
    'ÿ Ā ɐ ʰ ˀ ̀ ͰΆ',
  ];
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOLS: string[][] = [
  [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'],
  [...'0123456789'],
  [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2009', '\u0085'],
  [...'.,;:!?\'"`()[]{}<>/\\|-_=+*&^%$#@~'],
  ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL"],
  [...'éèêëàâäôöûüçñßøåæœ'],
  ['e\u0301', 'a\u0308', 'n\u0303', '\u0915\u093f', '\u0928\u094d'],
  [...'你好世界中文分词测试日本語한국어'],
  ['😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '🦀', '𝔘𝔫𝔦'],
  [...'αβγδΑΒΓДЖЗийкمرحبا'],
  ['½', '²', '٣', '①', 'Ⅻ', '১'],
];

/** `n` random strings (seeded), each 1–60 pieces drawn from mixed character pools. */
export function randomCorpus(n: number, seed = 1234): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 60);
    let s = '';
    let pool = POOLS[Math.floor(r() * POOLS.length)]!;
    for (let j = 0; j < len; j++) {
      if (r() < 0.3) pool = POOLS[Math.floor(r() * POOLS.length)]!;
      s += pool[Math.floor(r() * pool.length)]!;
    }
    out.push(s);
  }
  return out;
}
