import { escapeLucene } from './context-queries.service';

describe('escapeLucene', () => {
  it('escapes every Lucene operator so the text is only searched for', () => {
    expect(escapeLucene('a+b -c !d (e) {f} [g] ^h "i" ~j *k ?l :m \\n /o &&p ||q')).toBe(
      'a\\+b \\-c \\!d \\(e\\) \\{f\\} \\[g\\] \\^h \\"i\\" \\~j \\*k \\?l \\:m \\\\n \\/o \\&\\&p \\|\\|q',
    );
    expect(escapeLucene('x AND y OR NOT z TO w')).toBe('x and y or not z to w');
  });
});
